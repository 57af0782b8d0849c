// The training loop on a toy objective: exact resume with accumulation and EMA, strict
// refusal of mismatched settings and of missing or misshapen optimiser and EMA state.
import Foundation
import NN
import TensorCore
import TestSupport
import Training
import XCTest

final class TrainingLoopTests: XCTestCase {
    func options(steps: Int = 6) -> TrainingOptions {
        var options = TrainingOptions()
        options.steps = steps
        options.batchSize = 4
        options.gradientAccumulation = 2
        options.learningRate = 1e-2
        options.warmupSteps = 1
        options.checkpointEvery = 2
        options.quiet = true
        return options
    }

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-loop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A run stopped after 3 of 6 steps: its training directory.
    func stoppedRun() throws -> URL {
        let directory = try temporaryDirectory()
        var first = options()
        first.stopAfter = 3
        try TrainingLoop(objective: ToyObjective(), options: first, directory: directory).run()
        return directory
    }

    /// Resumes the run in `directory` with a fresh objective (changed by `change`).
    func resume(_ directory: URL, change: (ToyObjective) -> Void = { _ in }) throws -> (TrainingLoop, ToyObjective) {
        let objective = ToyObjective()
        change(objective)
        var resumed = options()
        resumed.resume = true
        let loop = try TrainingLoop(objective: objective, options: resumed, directory: directory)
        try loop.run()
        return (loop, objective)
    }

    func testResumeGivesTheUninterruptedRunsWeightsAverageAndState() throws {
        let straightObjective = ToyObjective()
        let straight = try TrainingLoop(objective: straightObjective, options: options(), directory: try temporaryDirectory())
        try straight.run()
        let (resumed, resumedObjective) = try resume(try stoppedRun())
        XCTAssertEqual(resumed.step, 6)
        for ((key, a), (_, b)) in zip(straightObjective.model.namedParameters(), resumedObjective.model.namedParameters()) {
            XCTAssertEqual(a.value.values, b.value.values, key)
            XCTAssertEqual(straight.ema?.shadow[key]?.values, resumed.ema?.shadow[key]?.values, "EMA of \(key)")
        }
        XCTAssertEqual(straight.state.sampler, resumed.state.sampler)
        XCTAssertEqual(straight.state.randomness, resumed.state.randomness)
        XCTAssertEqual(straight.optimizer.step, resumed.optimizer.step)
        XCTAssertGreaterThan(resumed.state.seconds, 0)
    }

    /// A checkpoint of the format before TrainingState (separate metadata entries) resumes too.
    func testResumesACheckpointOfTheEarlierFormat() throws {
        let straightObjective = ToyObjective()
        try TrainingLoop(objective: straightObjective, options: options(), directory: try temporaryDirectory()).run()
        let directory = try stoppedRun()
        let file = directory.appendingPathComponent(Checkpoint.fileName)
        var checkpoint = try Checkpoint.read(from: file)
        let state = try checkpoint.json("training_state", as: TrainingState.self)
        checkpoint.metadata = ["step": "\(state.step)", "decisions": "\(state.randomness.decisions)"]
        try checkpoint.setJSON("generator", state.randomness.generator.state)
        try checkpoint.setJSON("sampler", state.sampler)
        try checkpoint.write(to: file)
        let (resumed, objective) = try resume(directory)
        XCTAssertEqual(resumed.step, 6)
        for ((key, a), (_, b)) in zip(straightObjective.model.namedParameters(), objective.model.namedParameters()) {
            XCTAssertEqual(a.value.values, b.value.values, key)
        }
    }

    func testResumeRefusesAChangedSetting() throws {
        let directory = try stoppedRun()
        XCTAssertThrowsError(try resume(directory) { $0.setting = "b" }) { error in
            guard case TrainingError.resumeMismatch(let field, let saved, let current, _)? = error as? TrainingError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual([field, saved, current], ["ToyObjective.setting", "a", "b"])
        }
    }

    /// Each tampering of the checkpoint is refused with the tensor named.
    func testResumeRefusesMissingOrMisshapenOptimiserAndEMAState() throws {
        let directory = try stoppedRun()
        let file = directory.appendingPathComponent(Checkpoint.fileName)
        let original = try Checkpoint.read(from: file)
        let wrong = Tensor.zeros([3])
        let cases: [(String, (inout Checkpoint) -> Void)] = [
            ("adam/m.first.weight", { $0.tensors["adam/m.first.weight"] = nil }),
            ("adam/v.second.bias", { $0.tensors["adam/v.second.bias"] = wrong }),
            ("adam/step", { $0.tensors["adam/step"] = nil }),
            ("ema/first.bias", { $0.tensors["ema/first.bias"] = nil }),
            ("ema/second.weight", { $0.tensors["ema/second.weight"] = wrong }),
            ("ema/third.weight", { $0.tensors["ema/third.weight"] = wrong }),
            ("model/second.bias", { $0.tensors["model/second.bias"] = wrong }),
        ]
        for (name, tamper) in cases {
            var checkpoint = original
            tamper(&checkpoint)
            try checkpoint.write(to: file)
            XCTAssertThrowsError(try resume(directory), name) { error in
                XCTAssertTrue("\(error)".contains(name), "\(name): \(error)")
                if checkpoint.tensors[name] != nil, name != "ema/third.weight" {
                    XCTAssertTrue("\(error)".contains("shape"), "\(name): \(error)")
                }
            }
        }
        try original.write(to: file)
        XCTAssertNoThrow(try resume(directory), "the untouched checkpoint resumes")
    }

    func testOptionErrorsNameTheirFields() {
        var options = TrainingOptions()
        options.steps = 0
        XCTAssertThrowsError(try options.validate()) {
            XCTAssertEqual($0 as? TrainingError, .invalidOption(field: "TrainingOptions.steps", problem: "must be at least 1, got 0"))
            XCTAssertEqual("\($0)", "TrainingOptions.steps must be at least 1, got 0")
        }
        var diffusion = DiffusionTrainingOptions()
        diffusion.common.horizontalFlip = true
        XCTAssertThrowsError(try diffusion.validate()) { XCTAssertEqual(($0 as? TrainingError)?.fields, ["TrainingOptions.horizontalFlip"]) }
    }

    /// The defaults are the first stages of the 32-px model's recipe (models/emoji32, scripts/train-emoji.sh).
    func testDefaultsAreTheShippedRecipe() {
        let vae = VAETrainingOptions().common
        XCTAssertEqual([vae.steps, vae.batchSize, vae.warmupSteps, vae.checkpointEvery], [1000, 24, 50, 100])
        XCTAssertEqual(vae.learningRate, 6e-4)
        let diffusion = DiffusionTrainingOptions()
        XCTAssertEqual([diffusion.common.steps, diffusion.common.batchSize, diffusion.common.warmupSteps,
                        diffusion.common.checkpointEvery, diffusion.sampleEvery], [2400, 32, 150, 100, 600])
        XCTAssertEqual(diffusion.common.learningRate, 5e-4)
        XCTAssertEqual(ReconstructionLoss.allCases.map(\.rawValue), ["l1", "l2"])
    }
}
