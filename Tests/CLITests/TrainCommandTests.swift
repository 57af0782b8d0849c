// `diffuse train-vae` and `diffuse train` with no flags but --data (--vae) and --out: they start
// with the recipe's defaults, print them in one line, and reject bad values before training.
import Foundation
import TestSupport
import XCTest

final class TrainCommandTests: XCTestCase {
    /// Four copies of a 32×32 RGB PNG, uncaptioned.
    func tinyDataset() throws -> URL {
        let directory = try CLIFixture.temporaryDirectory().appendingPathComponent("data")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let image = try CLIFixture.rgbImage()
        for i in 0..<4 {
            try FileManager.default.copyItem(atPath: image, toPath: directory.appendingPathComponent("\(i).png").path)
        }
        return directory
    }

    /// The line that starts a run.
    func settingsLine(_ stderr: String, _ command: String) -> String {
        stderr.split(whereSeparator: \.isNewline).first { $0.hasPrefix("\(command): ") }.map(String.init) ?? ""
    }

    func testTrainVAERunsWithTheRecipeDefaults() throws {
        let data = try tinyDataset()
        let work = data.deletingLastPathComponent()

        // Only --data and --out (plus --stop-after, to keep the run to one step).
        let sliced = work.appendingPathComponent("vae-slice")
        let first = try DiffuseBinary.run(["train-vae", "--data", data.path, "--out", sliced.path, "--stop-after", "1"])
        assertSuccess(first, "train-vae with defaults")
        XCTAssertTrue(settingsLine(first.stderr, "train-vae")
            .hasPrefix("train-vae: --steps 1000 --batch-size 24 --lr 0.0006 --warmup 50 --checkpoint-every 100"), first.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: sliced.appendingPathComponent("training/checkpoint.safetensors").path))

        // Resumed to the end of a 2-step schedule: the VAE folder is written.
        let full = try DiffuseBinary.run(["train-vae", "--data", data.path, "--out", sliced.path, "--steps", "2", "--resume", "--quiet"])
        assertSuccess(full, "train-vae --steps 2 --resume")
        XCTAssertTrue(FileManager.default.fileExists(atPath: sliced.appendingPathComponent("diffusion_pytorch_model.safetensors").path))
        XCTAssertEqual(try String(contentsOf: sliced.appendingPathComponent("training/vae.csv"), encoding: .utf8)
            .split(separator: "\n").count, 3, "a header and two steps")
    }

    /// `train` announces its recipe before loading anything (a U-Net step is too slow for
    /// this suite; TrainingTests trains small ones): here it then fails on the missing VAE.
    func testTrainAnnouncesItsRecipeDefaults() throws {
        let data = try tinyDataset()
        let missing = data.deletingLastPathComponent().appendingPathComponent("no-vae").path
        let out = data.deletingLastPathComponent().appendingPathComponent("pipeline").path
        let train = try DiffuseBinary.run(["train", "--data", data.path, "--vae", missing, "--out", out])
        XCTAssertNotEqual(train.status, 0)
        XCTAssertTrue(settingsLine(train.stderr, "train")
            .hasPrefix("train: --steps 2400 --batch-size 32 --lr 0.0005 --warmup 150 --checkpoint-every 100 --sample-every 600"),
            train.stderr)
        XCTAssertTrue(train.stderr.contains("no-vae"), train.stderr)
    }

    func testBadValuesFailBeforeTraining() throws {
        let data = try tinyDataset()
        let out = data.deletingLastPathComponent().appendingPathComponent("out").path
        let loss = try DiffuseBinary.run(["train-vae", "--data", data.path, "--out", out, "--loss", "l3"])
        assertCleanFailure(loss, "--loss l3")
        XCTAssertTrue(loss.stderr.contains("'l1'") && loss.stderr.contains("'l2'"), loss.stderr)
        let prediction = try DiffuseBinary.run(["train", "--data", data.path, "--vae", out, "--out", out, "--prediction", "sample"])
        assertCleanFailure(prediction, "--prediction sample")
        XCTAssertTrue(prediction.stderr.contains("'epsilon' and 'v'"), prediction.stderr)
        let steps = try DiffuseBinary.run(["train-vae", "--data", data.path, "--out", out, "--steps", "0"])
        assertCleanFailure(steps, "--steps 0")
        XCTAssertTrue(steps.stderr.contains("--steps must be at least 1"), steps.stderr)
        // Errors of the library's options come back in terms of flags.
        let kl = try DiffuseBinary.run(["train-vae", "--data", data.path, "--out", out, "--kl-weight=-1", "--quiet"])
        assertCleanFailure(kl, "--kl-weight -1")
        XCTAssertTrue(kl.stderr.contains("--kl-weight must be at least 0"), kl.stderr)
        let dropout = try DiffuseBinary.run(["train", "--data", data.path, "--vae", out, "--out", out, "--caption-dropout", "2", "--quiet"])
        assertCleanFailure(dropout, "--caption-dropout 2")
        XCTAssertTrue(dropout.stderr.contains("--caption-dropout must be in [0, 1]"), dropout.stderr)
        let partial = try DiffuseBinary.run(["train", "--data", data.path, "--vae", out, "--out", out, "--partial-captions=-0.5", "--quiet"])
        assertCleanFailure(partial, "--partial-captions -0.5")
        XCTAssertTrue(partial.stderr.contains("--partial-captions must be in [0, 1]"), partial.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written")
        let help = try DiffuseBinary.run(["train", "--help"])
        XCTAssertTrue(help.stdout.contains("values: epsilon, v;"), help.stdout)
    }

    /// Each training command's `--help` shows its own recipe as the defaults.
    func testHelpShowsEachRecipesDefaults() throws {
        for (command, steps, batch, warmup) in [("train-vae", 1000, 24, 50), ("train", 2400, 32, 150), ("train-lora", 400, 4, 0)] {
            let help = try DiffuseBinary.run([command, "--help"]).stdout
            for line in ["Optimiser steps. (default: \(steps))", "Images per step. (default: \(batch))", "Warm-up steps. (default: \(warmup))"] {
                XCTAssertTrue(help.contains(line), "\(command): '\(line)' not in \(help)")
            }
        }
    }
}
