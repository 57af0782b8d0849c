// Mixed-precision training: bf16 products (emulated, so on any CPU) with float32 weights and
// optimiser state follow float32 training's losses closely, and the weights keep float32's bits.
import Foundation
import Models
import TensorCore
import Training
import XCTest

extension TrainingTests {
    /// Trains the tiny VAE for `steps` steps at `precision`; returns the losses and the trainer.
    private func trainVAE(_ data: CaptionedImageFolder, _ output: URL, bfloat16: Bool, steps: Int) throws -> ([Double], VAETrainer) {
        try ComputePrecision.use(bfloat16 ? .bfloat16 : .float32, emulate: true)
        defer { _ = try? ComputePrecision.use(.float32) }
        let trainer = try VAETrainer(data: data, output: output, options: tinyVAEOptions(steps: steps))
        try trainer.train()
        return (try csvLosses(output.appendingPathComponent("training/vae.csv")), trainer)
    }

    func testVAETrainingInBFloat16FollowsFloat32() throws {
        let directory = try makeDataset()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = try CaptionedImageFolder(directory: directory, resolution: 16)
        let (float32, _) = try trainVAE(data, directory.appendingPathComponent("fp32"), bfloat16: false, steps: 8)
        let (bfloat16, trainer) = try trainVAE(data, directory.appendingPathComponent("bf16"), bfloat16: true, steps: 8)
        XCTAssertNotEqual(bfloat16, float32, "bf16 products should move the losses")
        // Same data, noise and initial weights: each step's loss within 5 % of float32's (the
        // tiny run's own step-to-step swings are 20-50 %), and falling as float32's does.
        for (step, (a, b)) in zip(bfloat16, float32).enumerated() {
            XCTAssertEqual(a, b, accuracy: 0.05 * b, "step \(step + 1): bf16 \(a), fp32 \(b)")
        }
        XCTAssertLessThan(bfloat16.suffix(2).reduce(0, +), bfloat16.prefix(2).reduce(0, +), "loss should fall: \(bfloat16)")
        // Master weights stay float32: updates of ~1e-3 relative would vanish in bf16's 8 bits,
        // so most weights must carry bits below bf16's.
        let values = trainer.vae.namedParameters().flatMap { $0.parameter.value.values }
        let beyondBFloat16 = values.filter { $0.bitPattern & 0xFFFF != 0 }.count
        XCTAssertGreaterThan(Double(beyondBFloat16), 0.9 * Double(values.count), "weights rounded to bf16")
    }
}
