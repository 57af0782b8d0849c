// LoRA training on the tiny pipeline: only adapters train, the loss falls, the file loads back
// through the LoRA loader to the same model, and a resume equals an uninterrupted run.
import Foundation
import Models
import NN
import Pipelines
import TensorCore
import TestSupport
import Training
import XCTest

final class LoraTrainingTests: XCTestCase {
    private var temporaries: [URL] = []
    override func tearDown() { for url in temporaries { try? FileManager.default.removeItem(at: url) } }

    private func temporary(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-lora-\(UUID().uuidString)-\(name)")
        temporaries.append(url)
        return url
    }

    /// Four 32×32 emoji (DreamBooth style: one caption given in the options).
    private func dataset() throws -> CaptionedImageFolder {
        let directory = try temporary("data")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for i in 0..<4 {
            let name = String(format: "%05d.png", i)
            try FileManager.default.copyItem(at: try SharedData.url("datasets/emoji32/\(name)"), to: directory.appendingPathComponent(name))
        }
        return try CaptionedImageFolder(directory: directory, resolution: 32)
    }

    private func model() throws -> StableDiffusion {
        try StableDiffusion.load(directory: try SharedData.url("fixtures/diffusers-tiny"))
    }

    private func options(steps: Int, targets: LoRATrainingOptions.Targets = .unet) -> LoRATrainingOptions {
        var options = LoRATrainingOptions()
        options.common.steps = steps
        options.common.batchSize = 4
        options.common.learningRate = 1e-2
        options.common.checkpointEvery = 2
        options.common.quiet = true
        options.caption = "a sks icon"
        options.sampleEvery = 0
        options.sampleSteps = 1
        options.targets = targets
        return options
    }

    private func trainer(_ options: LoRATrainingOptions, name: String, model: StableDiffusion? = nil) throws -> LoRATrainer {
        let out = try temporary(name + ".safetensors")
        return try LoRATrainer(model: try model ?? self.model(), data: try dataset(), output: out,
                               trainingDirectory: URL(fileURLWithPath: out.path + "-training"), options: options)
    }

    /// The mean loss over fixed batches and draws (the same before and after training).
    private func fixedLoss(_ trainer: LoRATrainer) throws -> Float {
        var randomness = TrainingRandomness(seed: 42, decisionSeed: 43)
        var total: Float = 0
        for _ in 0..<8 {
            total += try Autograd.withoutGrad { try trainer.loss(batch: [0, 1, 2, 3], step: 0, randomness: &randomness).loss.item }
        }
        return total / 8
    }

    func testOnlyAdaptersTrainAndBaseWeightsGetNoGradients() throws {
        let trainer = try trainer(options(steps: 1, targets: .unetAndText), name: "frozen")
        // 12 U-Net projections (to_q/k/v/out.0 in 3 attention layers of 4 transformers … as the fixture lists)
        // and 20 text projections, each rank 4: A [4, in] + B [out, 4].
        XCTAssertEqual(trainer.adapters.count, 2 * (48 + 20))
        XCTAssertEqual(trainer.trainableCount, 28160, "the fixture LoRA of the same shape has 28,160 values")
        let loop = try TrainingLoop(objective: trainer, options: trainer.options.common, directory: trainer.trainingDirectory)
        let moments = loop.optimizer.stateTensors().filter { $0.key.hasPrefix("m.") }
        XCTAssertEqual(moments.count, trainer.adapters.count, "AdamW holds moments for the adapters only")
        XCTAssertEqual(moments.values.reduce(0) { $0 + $1.count }, 28160, "values the optimiser sees")
        var randomness = TrainingRandomness(seed: 0, decisionSeed: 1)
        try trainer.loss(batch: [0, 1], step: 0, randomness: &randomness).loss.backward()
        for (key, parameter) in trainer.model.unet.namedParameters() + trainer.model.textEncoder.namedParameters() {
            XCTAssertFalse(parameter.value.requiresGrad, "\(key) is frozen")
            XCTAssertNil(parameter.grad, "\(key) got a gradient")
        }
        XCTAssertTrue(trainer.adapters.contains { $0.parameter.grad != nil }, "adapters get gradients")
        XCTAssertTrue(trainer.adapters.allSatisfy { !$0.key.hasSuffix("lora_B.weight") || $0.parameter.value.values.allSatisfy { $0 == 0 } },
                      "B starts at zero")
    }

    /// `train-lora --precision bf16` loads the frozen base with its weights in bf16. The adapters'
    /// loss and gradients through it equal those through the same base rounded but kept in float32,
    /// bit for bit, in float32 and in every bf16 this CPU runs.
    func testAdapterGradientsThroughBaseWeightsStoredInBFloat16() throws {
        defer { _ = try? ComputePrecision.use(.float32) }
        let modes: [(ComputePrecision, Bool)] = [(.float32, false), (.bfloat16, true)] + (ComputePrecision.nativeBFloat16 ? [(.bfloat16, false)] : [])
        for (precision, emulate) in modes {
            let mode = try ComputePrecision.use(precision, emulate: emulate)
            let stored = try WeightStorage.building(inBFloat16: true) { try model() }, rounded = try model()
            for (a, b) in [(stored.unet, rounded.unet), (stored.textEncoder, rounded.textEncoder), (stored.vae, rounded.vae)] as [(Module, Module)] {
                for (s, r) in zip(a.namedParameters(), b.namedParameters()) where s.parameter.value.isBFloat16 {
                    try r.parameter.assign(r.parameter.value.storedInBFloat16().float32Values())  // float32 storage, bf16 values
                }
            }
            var results: [(loss: Float, gradients: [[Float]])] = []
            for base in [stored, rounded] {
                let trainer = try trainer(options(steps: 1, targets: .unetAndText), name: "bf16-base", model: base)
                for (key, parameter) in trainer.adapters where key.hasSuffix("lora_B.weight") {  // a trained B, not the zero one
                    try parameter.assign(testTensor(parameter.shape, seed: 5, scale: 0.05))
                }
                var randomness = TrainingRandomness(seed: 0, decisionSeed: 1)
                let loss = try trainer.loss(batch: [0, 1], step: 0, randomness: &randomness).loss
                loss.backward()
                results.append((loss.item, try trainer.adapters.map { try XCTUnwrap($0.parameter.grad).values }))
            }
            XCTAssertTrue(stored.unet.namedParameters().contains { $0.parameter.value.isBFloat16 })
            XCTAssertFalse(rounded.unet.namedParameters().contains { $0.parameter.value.isBFloat16 })
            XCTAssertEqual(results[0].loss, results[1].loss, "loss, \(mode.name)")
            XCTAssertEqual(results[0].gradients, results[1].gradients, "adapter gradients, \(mode.name)")
            XCTAssertTrue(results[0].gradients.contains { $0.contains { $0 != 0 } }, "gradients flow, \(mode.name)")
        }
    }

    func testTrainingReducesLossAndTheFileRoundTrips() throws {
        let trainer = try trainer(options(steps: 12, targets: .unetAndText), name: "fit")
        let before = try fixedLoss(trainer)
        try trainer.train()
        let after = try fixedLoss(trainer)
        print("LoRA fixed-draw loss: \(before) → \(after) after 12 steps")
        XCTAssertLessThan(after, before * 0.97)

        // The file holds diffusers' keys and, loaded by the LoRA loader into a fresh model, gives the
        // same U-Net output and prompt embedding as the trained (unmerged) adapters.
        let file = try LoRAFile(contentsOf: trainer.output)
        XCTAssertEqual(file.format, .diffusers)
        XCTAssertEqual(file.adapters.count, trainer.adapters.count / 2)
        XCTAssertEqual(try SafetensorsFile(contentsOf: trainer.output).names, trainer.adapters.map(\.key).sorted())
        // The same keys, shapes and alpha metadata as the fixture diffusers' save_lora_weights wrote for these targets.
        let written = try SafetensorsFile(contentsOf: trainer.output)
        let diffusers = try SafetensorsFile(contentsOf: try SharedData.url("fixtures/lora/lora_diffusers.safetensors"))
        XCTAssertEqual(written.names, diffusers.names)
        for name in diffusers.names { XCTAssertEqual(try written.shape(name), try diffusers.shape(name), name) }
        XCTAssertEqual(written.metadata["format"], "pt")
        let fresh = try model()
        try fresh.applyLoRA(file)
        let ids = trainer.model.tokenizer.inputIDs("a sks icon", maxLength: 77).ids
        try Autograd.withoutGrad {
            let trained = trainer.model.textEncoder(ids: ids, batch: 1).lastHidden
            let merged = fresh.textEncoder(ids: ids, batch: 1).lastHidden
            assertClose(merged, trained, absolute: 1e-4, "prompt embedding")
            let latents = try Tensor(shape: [1, 4, 16, 16], values: (0..<1024).map { Float(sin(Double($0))) })
            assertClose(fresh.unet(latents, timesteps: [500], context: merged), trainer.model.unet(latents, timesteps: [500], context: trained),
                        absolute: 1e-4, "U-Net output")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: trainer.trainingDirectory.appendingPathComponent("lora-loss.png").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: trainer.trainingDirectory.appendingPathComponent("samples-000012.png").path))
    }

    func testResumeGivesTheSameAdaptersAsAnUninterruptedRun() throws {
        let straight = try trainer(options(steps: 6), name: "straight")
        try straight.train()

        var first = options(steps: 6)
        first.common.stopAfter = 3
        let sliced = try trainer(first, name: "sliced")
        try sliced.train()
        var second = options(steps: 6)
        second.common.resume = true
        let resumed = try LoRATrainer(model: try model(), data: try dataset(), output: sliced.output,
                                      trainingDirectory: sliced.trainingDirectory, options: second)
        try resumed.train()
        for ((key, a), (_, b)) in zip(straight.adapters, resumed.adapters) {
            XCTAssertEqual(a.value.values, b.value.values, "\(key) after resume")
        }
        XCTAssertEqual(try SafetensorsFile(contentsOf: straight.output).floats(straight.adapters[1].key),
                       try SafetensorsFile(contentsOf: resumed.output).floats(straight.adapters[1].key))
    }
}
