// Training end to end on a tiny synthetic dataset: loss falls, resume is exact, checkpoints
// survive kills, and the trained folder loads back and generates.
import Foundation
import Imaging
import Models
import NN
import Pipelines
import Schedulers
import TensorCore
import TestSupport
import Training
import XCTest

final class TrainingTests: XCTestCase {
    /// Eight 16×16 images: coloured squares on white, captioned by colour and position.
    func makeDataset() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let colors: [(String, [UInt8])] = [("red", [220, 30, 30]), ("green", [30, 180, 40]), ("blue", [30, 60, 220]), ("yellow", [230, 210, 20])]
        var lines = ["file\tcaption"]
        for (i, (name, color)) in colors.enumerated() {
            for (j, corner) in ["left", "right"].enumerated() {
                var image = try Image(width: 16, height: 16, channels: 3, color: [255, 255, 255])
                for y in 4..<12 { for x in 0..<8 { image.setPixel(x: x + j * 8, y: y, color: color) } }
                let file = "\(i * 2 + j).png"
                try image.writePNG(to: directory.appendingPathComponent(file))
                lines.append("\(file)\t\(name) square on the \(corner)")
            }
        }
        try (lines.joined(separator: "\n") + "\n").write(to: directory.appendingPathComponent("captions.tsv"), atomically: true, encoding: .utf8)
        return directory
    }

    func tinyVAEOptions(steps: Int) -> VAETrainingOptions {
        var options = VAETrainingOptions()
        options.config.blockOutChannels = [16, 32]
        options.config.normNumGroups = 8
        options.common.steps = steps
        options.common.batchSize = 4
        options.common.resolution = 16
        options.common.learningRate = 2e-3
        options.common.warmupSteps = 2
        options.common.checkpointEvery = 2
        options.common.quiet = true
        return options
    }

    func tinyDiffusionOptions(steps: Int) -> DiffusionTrainingOptions {
        var options = DiffusionTrainingOptions()
        options.unetConfig.blockOutChannels = [32, 64]
        options.unetConfig.downBlockTypes = ["CrossAttnDownBlock2D", "DownBlock2D"]
        options.unetConfig.upBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D"]
        options.unetConfig.normNumGroups = 8
        options.textConfig.hiddenSize = 32
        options.textConfig.intermediateSize = 64
        options.textConfig.numHiddenLayers = 2
        options.common.steps = steps
        options.common.batchSize = 4
        options.common.resolution = 16
        options.common.learningRate = 1e-3
        options.common.warmupSteps = 2
        options.common.checkpointEvery = 2
        options.common.quiet = true
        options.sampleEvery = 0
        options.sampleSteps = 3
        return options
    }

    var tokenizerDirectory: URL { SharedData.repositoryRoot.appendingPathComponent("models/clip-tokenizer") }

    func testVAELossFallsAndResumeIsExact() throws {
        let dataDirectory = try makeDataset()
        let data = try CaptionedImageFolder(directory: dataDirectory, resolution: 16)
        XCTAssertEqual(data.count, 8)
        XCTAssertEqual(data.items[0].caption, "red square on the left")

        // Straight through for 6 steps.
        let straightDirectory = dataDirectory.appendingPathComponent("straight")
        let straight = try VAETrainer(data: data, output: straightDirectory, options: tinyVAEOptions(steps: 6))
        try straight.train()
        let losses = try csvLosses(straightDirectory.appendingPathComponent("training/vae.csv"))
        XCTAssertEqual(losses.count, 6)
        XCTAssertLessThan(losses.suffix(2).reduce(0, +), losses.prefix(2).reduce(0, +), "VAE loss should fall: \(losses)")

        // A saved VAE starts a new run with its own weights and config, whatever `config` says.
        _ = try straight.save(to: straightDirectory)
        var continued = tinyVAEOptions(steps: 2)
        continued.config.blockOutChannels = [8, 8]
        continued.initialModelDirectory = straightDirectory
        let second = try VAETrainer(data: data, output: dataDirectory.appendingPathComponent("second"), options: continued)
        assertSameParameters(straight.vae, second.vae)
        XCTAssertEqual(second.vae.config.scalingFactor, 1)

        // 4 steps, then a new trainer resumes to 6: the same weights, bit for bit.
        let resumedDirectory = dataDirectory.appendingPathComponent("resumed")
        var firstPart = tinyVAEOptions(steps: 6)
        firstPart.common.stopAfter = 3
        try VAETrainer(data: data, output: resumedDirectory, options: firstPart).train()
        var resumeOptions = tinyVAEOptions(steps: 6)
        resumeOptions.common.resume = true
        let resumed = try VAETrainer(data: data, output: resumedDirectory, options: resumeOptions)
        try resumed.train()
        assertSameParameters(straight.vae, resumed.vae)

        // Another reconstruction loss is refused, naming the field.
        var otherLoss = tinyVAEOptions(steps: 6)
        otherLoss.common.resume = true
        otherLoss.reconstructionLoss = .l2
        XCTAssertThrowsError(try VAETrainer(data: data, output: resumedDirectory, options: otherLoss).train()) {
            XCTAssertEqual(($0 as? TrainingError)?.fields, ["VAETrainingOptions.reconstructionLoss"], "\($0)")
        }
    }

    func testDiffusionTrainingLossFallsResumesAndGenerates() throws {
        let dataDirectory = try makeDataset()
        let data = try CaptionedImageFolder(directory: dataDirectory, resolution: 16)
        let vaeDirectory = dataDirectory.appendingPathComponent("vae")
        let vaeTrainer = try VAETrainer(data: data, output: vaeDirectory, options: tinyVAEOptions(steps: 4))
        try vaeTrainer.train()
        let factor = try vaeTrainer.save(to: vaeDirectory)
        XCTAssertGreaterThan(factor, 0)

        let straightDirectory = dataDirectory.appendingPathComponent("pipeline")
        let straight = try DiffusionTrainer(data: data, vaeDirectory: vaeDirectory, tokenizerDirectory: tokenizerDirectory,
                                            output: straightDirectory, options: tinyDiffusionOptions(steps: 8))
        try straight.train()
        let losses = try csvLosses(straightDirectory.appendingPathComponent("training/diffusion.csv"))
        XCTAssertEqual(losses.count, 8)
        XCTAssertLessThan(losses.suffix(3).reduce(0, +), losses.prefix(3).reduce(0, +), "diffusion loss should fall: \(losses)")

        let resumedDirectory = dataDirectory.appendingPathComponent("resumed")
        var firstPart = tinyDiffusionOptions(steps: 8)
        firstPart.common.stopAfter = 3
        try DiffusionTrainer(data: data, vaeDirectory: vaeDirectory, tokenizerDirectory: tokenizerDirectory,
                             output: resumedDirectory, options: firstPart).train()
        // As if killed after logging step 4 but before its checkpoint: the resumed run redoes it.
        let resumedCSV = resumedDirectory.appendingPathComponent("training/diffusion.csv")
        let handle = try FileHandle(forWritingTo: resumedCSV)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("4,9.9,0.001,1.0\n".utf8))
        try handle.close()
        var options = tinyDiffusionOptions(steps: 8)
        options.common.resume = true
        let resumed = try DiffusionTrainer(data: data, vaeDirectory: vaeDirectory, tokenizerDirectory: tokenizerDirectory,
                                           output: resumedDirectory, options: options)
        try resumed.train()
        assertSameParameters(straight.unet, resumed.unet)
        assertSameParameters(straight.textEncoder, resumed.textEncoder)
        let loggedSteps = try String(contentsOf: resumedCSV, encoding: .utf8).split(separator: "\n").dropFirst()
            .compactMap { $0.split(separator: ",").first.flatMap { Int($0) } }
        XCTAssertEqual(loggedSteps, Array(1...8), "each step logged once")
        let loggedSeconds = try String(contentsOf: resumedCSV, encoding: .utf8).split(separator: "\n").dropFirst()
            .compactMap { $0.split(separator: ",").last.flatMap { Double($0) } }
        XCTAssertEqual(loggedSeconds, loggedSeconds.sorted(), "the clock goes on across the resume: \(loggedSeconds)")
        XCTAssertEqual(try csvLosses(resumedCSV), losses, "the resumed log matches the straight run's")

        // Oversampling names images of the folder, and a resume keeps the run's own.
        var unknown = tinyDiffusionOptions(steps: 8)
        unknown.oversampledFiles = ["0.png", "missing.png"]
        unknown.oversampleFactor = 2
        XCTAssertThrowsError(try DiffusionTrainer(data: data, vaeDirectory: vaeDirectory, tokenizerDirectory: tokenizerDirectory,
                                                  output: dataDirectory.appendingPathComponent("unknown"), options: unknown)) {
            XCTAssertTrue("\($0)".contains("missing.png"), "\($0)")
        }
        var changed = tinyDiffusionOptions(steps: 8)
        changed.common.resume = true
        changed.oversampledFiles = ["0.png"]
        changed.oversampleFactor = 2
        XCTAssertThrowsError(try DiffusionTrainer(data: data, vaeDirectory: vaeDirectory, tokenizerDirectory: tokenizerDirectory,
                                                  output: resumedDirectory, options: changed).train()) {
            XCTAssertEqual(($0 as? TrainingError)?.fields, ["DiffusionTrainingOptions.oversampledFiles"], "\($0)")
        }
        // So does a change of the loss or of the sampler: each refusal names its field.
        var vPrediction = tinyDiffusionOptions(steps: 8)
        vPrediction.predictionType = .vPrediction
        var plainMSE = tinyDiffusionOptions(steps: 8)
        plainMSE.minSNRGamma = nil
        var partial = tinyDiffusionOptions(steps: 8)
        partial.partialCaptions = 0.5
        for (field, var changed) in [("DiffusionTrainingOptions.predictionType", vPrediction),
                                     ("DiffusionTrainingOptions.minSNRGamma", plainMSE),
                                     ("DiffusionTrainingOptions.partialCaptions", partial)] {
            changed.common.resume = true
            XCTAssertThrowsError(try DiffusionTrainer(data: data, vaeDirectory: vaeDirectory, tokenizerDirectory: tokenizerDirectory,
                                                      output: resumedDirectory, options: changed).train()) {
                XCTAssertEqual(($0 as? TrainingError)?.fields, [field], "\($0)")
            }
        }
        // A checkpoint of another noise schedule (its recorded setting altered here).
        let otherSchedule = dataDirectory.appendingPathComponent("other-schedule/training")
        try FileManager.default.createDirectory(at: otherSchedule, withIntermediateDirectories: true)
        var tampered = try Checkpoint.read(from: resumedDirectory.appendingPathComponent("training/\(Checkpoint.fileName)"))
        var state = try tampered.json("training_state", as: TrainingState.self)
        state.settings["DiffusionTrainer.scheduler"] = "{\"beta_schedule\":\"linear\"}"
        try tampered.setJSON("training_state", state)
        try tampered.write(to: otherSchedule.appendingPathComponent(Checkpoint.fileName))
        var sameOptions = tinyDiffusionOptions(steps: 8)
        sameOptions.common.resume = true
        XCTAssertThrowsError(try DiffusionTrainer(data: data, vaeDirectory: vaeDirectory, tokenizerDirectory: tokenizerDirectory,
                                                  output: otherSchedule.deletingLastPathComponent(), options: sameOptions).train()) {
            XCTAssertEqual(($0 as? TrainingError)?.fields, ["DiffusionTrainer.scheduler"], "\($0)")
        }

        // The saved folder is a complete pipeline that loads and generates, with the sampler
        // (and the settings of it) that the shipped model uses.
        let model = try StableDiffusion.load(directory: straightDirectory)
        let trainedScheduler = try SchedulerConfig.load(from: straightDirectory.appendingPathComponent("scheduler"))
        let shippedScheduler = try SchedulerConfig.load(
            from: SharedData.repositoryRoot.appendingPathComponent("models/emoji/scheduler"))
        XCTAssertEqual(trainedScheduler, shippedScheduler, "train writes the shipped model's sampler")
        XCTAssertEqual(trainedScheduler.className, "EulerDiscreteScheduler")
        XCTAssertTrue(trainedScheduler.useKarrasSigmas)
        var request = GenerationRequest(prompt: "red square on the left")
        request.steps = 3
        let result = try model.generate(request)
        XCTAssertEqual(result.images.shape, [1, 3, 16, 16])
        XCTAssertTrue(result.images.values.allSatisfy { $0.isFinite })

        // The fidelity test reports each prompt, consistently with its shares and its picture.
        let fidelity = try Evaluation.promptFidelity(model: model, data: data, count: 3, seed: 0, steps: 2, guidance: 3)
        XCTAssertEqual(fidelity.outcomes.count, 3)
        XCTAssertEqual(Set(fidelity.outcomes.map(\.caption)).count, 3, "three different captions")
        for outcome in fidelity.outcomes {
            XCTAssertTrue((1...data.count).contains(outcome.ownRank), "\(outcome)")
            if outcome.ownRank == 1 { XCTAssertEqual(outcome.nearestCaption, outcome.caption) }
        }
        XCTAssertEqual(fidelity.top1, Double(fidelity.outcomes.filter { $0.ownRank == 1 }.count) / 3, accuracy: 1e-12)
        let sheet = try Evaluation.fidelitySheet(fidelity, columns: 2)
        let cell = 16 * 3 + 4 * 2  // three 16-pixel images, 2 px apart and around
        XCTAssertEqual(sheet.width, 2 * cell + 3 * 4)
        XCTAssertEqual(sheet.height, 2 * (16 + 4) + 3 * 4)

        // The diversity test: one seed twice gives copies (exactly 0 apart), three seeds give
        // images as far apart as their pixels say (to 8-bit rounding), and the sheet has a row each.
        let caption = fidelity.outcomes[0].caption
        let captions = Set(data.items.map(\.caption))
        let same = try Evaluation.diversity(model: model, prompts: [caption], seeds: [0, 0], steps: 2, guidance: 3,
                                            trainingCaptions: captions)
        XCTAssertEqual(same.outcomes[0].meanPairwiseRMS, 0)
        XCTAssertTrue(same.outcomes[0].isCopies && same.outcomes[0].isTrainingCaption)
        let spread = try Evaluation.diversity(model: model, prompts: [caption, "a caption never seen"], seeds: [0, 1, 2],
                                              steps: 2, guidance: 3, trainingCaptions: captions)
        XCTAssertEqual(spread.outcomes.map(\.isTrainingCaption), [true, false])
        for (outcome, row) in zip(spread.outcomes, spread.images) {
            let pixels = try row.map { try Tensor(image: $0).values }  // in [-1, 1]
            var sum = 0.0
            for (i, j) in [(0, 1), (0, 2), (1, 2)] {
                sum += (zip(pixels[i], pixels[j]).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +) / Double(pixels[i].count)).squareRoot()
            }
            XCTAssertGreaterThan(outcome.meanPairwiseRMS, 0)
            XCTAssertEqual(outcome.meanPairwiseRMS, sum / 3, accuracy: 1 / 127.5, outcome.prompt)
        }
        let diversitySheet = try Evaluation.diversitySheet(spread.outcomes, images: spread.images)
        XCTAssertEqual(diversitySheet.width, 3 * 16 + 4 * 2 + 2 * 2)
        XCTAssertEqual(diversitySheet.height, 2 * (16 + 2 * 2) + 3 * 2)
        XCTAssertThrowsError(try Evaluation.diversity(model: model, prompts: [caption], seeds: [0], steps: 2, guidance: 3))

        // Continued training starts from the saved folder's weights and configs.
        var continued = tinyDiffusionOptions(steps: 2)
        continued.initialModelDirectory = straightDirectory
        continued.unetConfig.blockOutChannels = [8, 16]  // ignored: the folder's config wins
        let next = try DiffusionTrainer(data: data, vaeDirectory: vaeDirectory, tokenizerDirectory: tokenizerDirectory,
                                        output: dataDirectory.appendingPathComponent("continued"), options: continued)
        assertSameParameters(next.unet, try UNet2DConditionModel.load(directory: straightDirectory.appendingPathComponent("unet")))
        assertSameParameters(next.textEncoder, try CLIPTextModel.load(directory: straightDirectory.appendingPathComponent("text_encoder")))
        try next.train()
        let continuedLosses = try csvLosses(dataDirectory.appendingPathComponent("continued/training/diffusion.csv"))
        XCTAssertEqual(continuedLosses.count, 2)
        // It goes on from where the first run ended, not from a fresh model's loss.
        XCTAssertLessThan(continuedLosses[0], losses[0], "continued: \(continuedLosses), fresh: \(losses)")
    }

    func testEmptyOrUnreadableFolderIsReported() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data("not a png".utf8).write(to: directory.appendingPathComponent("broken.png"))
        XCTAssertThrowsError(try CaptionedImageFolder(directory: directory, resolution: 16)) { error in
            XCTAssertTrue("\(error)".contains("no usable image"), "\(error)")
        }
        let dataDirectory = try makeDataset()
        try Data("not a png".utf8).write(to: dataDirectory.appendingPathComponent("zz-broken.png"))
        let data = try CaptionedImageFolder(directory: dataDirectory, resolution: 16)
        XCTAssertEqual(data.count, 8)
        XCTAssertEqual(data.skipped.map(\.file), ["zz-broken.png"])
    }

    func testPartialCaptionsAreNonEmptySubsetsInOrderAtTheirShare() {
        var randomness = TrainingRandomness(seed: 1, decisionSeed: 2)
        let words = ["red", "square", "left"]
        var seen: [String: Int] = [:]
        var shortened = 0
        for _ in 0..<4000 {
            guard let partial = DiffusionTrainer.partialCaption(words.joined(separator: " "), share: 0.5, randomness: &randomness) else { continue }
            shortened += 1
            let kept = partial.split(separator: " ").map(String.init)
            XCTAssertFalse(kept.isEmpty)
            XCTAssertEqual(kept, words.filter(kept.contains), "a subset in the caption's order: \(partial)")
            seen[partial, default: 0] += 1
        }
        XCTAssertEqual(Double(shortened) / 4000, 0.5, accuracy: 0.03)
        // Every non-empty subset occurs, the whole caption included (all words kept).
        XCTAssertEqual(seen.count, 7, "\(seen)")
        XCTAssertNil(DiffusionTrainer.partialCaption("apple", share: 1, randomness: &randomness), "one word stays whole")
        XCTAssertNil(DiffusionTrainer.partialCaption("red apple", share: 0, randomness: &randomness))
        var invalid = DiffusionTrainingOptions()
        invalid.partialCaptions = 1.5
        XCTAssertThrowsError(try invalid.validate()) { XCTAssertTrue("\($0)".contains("partialCaptions"), "\($0)") }
    }

    func testCaptionSources() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-captions-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let image = try Image(width: 8, height: 8, channels: 3, color: [10, 20, 30])
        try image.writePNG(to: directory.appendingPathComponent("a.png"))
        try image.writePNG(to: directory.appendingPathComponent("b.png"))
        try "a cat\n".write(to: directory.appendingPathComponent("a.txt"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try CaptionedImageFolder(directory: directory, resolution: 8).items.map(\.caption), ["a cat", ""])
        try "{\"file_name\": \"b.png\", \"text\": \"a dog\"}\n".write(to: directory.appendingPathComponent("metadata.jsonl"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try CaptionedImageFolder(directory: directory, resolution: 8).items.map(\.caption), ["", "a dog"])
    }

    func testSamplerIsDeterministicAndCoversEachEpoch() {
        var a = BatchSampler(count: 10, seed: 7), b = BatchSampler(count: 10, seed: 7)
        let first = a.next(10)
        XCTAssertEqual(first.sorted(), Array(0..<10))
        XCTAssertEqual(first, b.next(10))
        XCTAssertEqual(a.next(10).sorted(), Array(0..<10))
        XCTAssertNotEqual(BatchSampler(count: 10, seed: 8).order(), BatchSampler(count: 10, seed: 7).order())
    }

    func testResumedLogKeepsTheClockOfEarlierRuns() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-log-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let columns = ["step", "loss", "lr", "seconds"]
        let first = try TrainingLog(directory: directory, name: "run", columns: columns, resuming: false)
        for step in 1...3 { try first.record(step: step, loss: 0.5, extra: ["0.001", String(format: "%.1f", 40.0 * Double(step))]) }
        let resumed = try TrainingLog(directory: directory, name: "run", columns: columns, resuming: true)
        XCTAssertEqual(resumed.loggedSeconds(atStep: 2), 80, accuracy: 1e-9)
        XCTAssertEqual(resumed.loggedSeconds(atStep: 3), 120, accuracy: 1e-9)
        XCTAssertEqual(resumed.loggedSeconds(atStep: 7), 0, "a step never logged has no time")
        XCTAssertEqual(resumed.losses.map(\.step), [1, 2, 3])
    }

    func testOversampledImagesRepeatEachEpochAndSurviveACheckpoint() throws {
        var sampler = BatchSampler(count: 4, seed: 3, repeats: [3, 1, 1, 2])
        XCTAssertEqual(sampler.epochLength, 7)
        let firstEpoch = sampler.next(7)
        XCTAssertEqual(firstEpoch.sorted(), [0, 0, 0, 1, 2, 3, 3])
        XCTAssertEqual(sampler.next(7).sorted(), [0, 0, 0, 1, 2, 3, 3])
        XCTAssertEqual(sampler.epoch, 1)

        // Saved mid-epoch (as checkpoints do), it goes on with the same draws.
        var original = BatchSampler(count: 4, seed: 3, repeats: [3, 1, 1, 2])
        _ = original.next(5)
        var restored = try JSONDecoder().decode(BatchSampler.self, from: JSONEncoder().encode(original))
        XCTAssertEqual(restored.repeats, [3, 1, 1, 2])
        XCTAssertEqual(restored.next(12), original.next(12))

        // Checkpoints written before oversampling existed hold no repeats: once each.
        let legacy = #"{"count": 3, "seed": 5, "epoch": 0, "position": 0, "order": [2, 0, 1]}"#
        var old = try JSONDecoder().decode(BatchSampler.self, from: Data(legacy.utf8))
        XCTAssertNil(old.repeats)
        XCTAssertEqual(old.next(3), [2, 0, 1])
        XCTAssertEqual(old.next(3).sorted(), [0, 1, 2])
    }

    func assertSameParameters(_ a: Module, _ b: Module, file: StaticString = #filePath, line: UInt = #line) {
        let other = Dictionary(uniqueKeysWithValues: b.namedParameters().map { ($0.key, $0.parameter) })
        var differing: [String] = []
        for (key, parameter) in a.namedParameters() where other[key]?.value.values != parameter.value.values { differing.append(key) }
        XCTAssertEqual(differing, [], "parameters differ", file: file, line: line)
    }

    func csvLosses(_ url: URL) throws -> [Double] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").dropFirst().compactMap { line in
            line.split(separator: ",").dropFirst().first.flatMap { Double($0) }
        }
    }
}

extension BatchSampler {
    func order() -> [Int] {
        var copy = self
        return copy.next(count)
    }
}
