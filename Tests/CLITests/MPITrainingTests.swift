// `mpirun -np 2 diffuse train-vae | train`: the same weights as one process with the same
// global batch, one set of outputs, resume across rank counts and after a kill, clean faults.
import Foundation
import TestSupport
import XCTest

final class MPITrainingTests: XCTestCase {
    func lines(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// The loss column of a training CSV.
    func losses(_ url: URL) throws -> [Double] {
        try lines(url).dropFirst().compactMap { $0.split(separator: ",").dropFirst().first.flatMap { Double($0) } }
    }

    func assertSameLosses(_ a: URL, _ b: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let x = try losses(a), y = try losses(b)
        XCTAssertEqual(x.count, y.count, "steps logged", file: file, line: line)
        for (u, v) in zip(x, y) { XCTAssertEqual(u, v, accuracy: 1e-4 * max(abs(u), 1e-3), "losses", file: file, line: line) }
    }

    func testTrainVAEOnTwoRanksMatchesOneProcessAndResumesOnAnotherCount() throws {
        let work = try MPIWorkspace.make()
        let one = try DiffuseBinary.run(MPIWorkspace.vaeArguments(work, out: "one", steps: 4) + ["--quiet"])
        assertSuccess(one, "train-vae, one process")
        let two = try MPIJob.run(ranks: 2, MPIWorkspace.vaeArguments(work, out: "two", steps: 4), in: work)
        assertSuccess(two, "mpirun -np 2 train-vae")
        let weights = "diffusion_pytorch_model.safetensors"
        let distance = try relativeDistance(work.appendingPathComponent("one/\(weights)"), work.appendingPathComponent("two/\(weights)"))
        XCTAssertLessThan(distance, 1e-4, "2 ranks vs 1 process")
        try assertSameLosses(work.appendingPathComponent("one/training/vae.csv"), work.appendingPathComponent("two/training/vae.csv"))
        // One set of outputs, from rank 0 alone: one summary, one announcement, one CSV row per step.
        XCTAssertEqual(two.stdout.components(separatedBy: "scaling_factor").count - 1, 1, two.stdout)
        XCTAssertEqual(two.stderr.components(separatedBy: "train-vae: --steps").count - 1, 1, two.stderr)
        XCTAssertTrue(two.stderr.contains("img/s on 2 ranks"), two.stderr)
        XCTAssertTrue(two.stderr.contains("all-reduce: 2 ranks, 4 calls"), two.stderr)
        XCTAssertEqual(try lines(work.appendingPathComponent("two/training/vae.csv")).count, 5, "a header and four steps")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("two/training").path).sorted(),
                       try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("one/training").path).sorted())

        // Half on two ranks, the rest in one process: the checkpoint holds the global state.
        let half = try MPIJob.run(ranks: 2, MPIWorkspace.vaeArguments(work, out: "mixed", steps: 4) + ["--stop-after", "2", "--quiet"], in: work)
        assertSuccess(half, "mpirun -np 2 train-vae --stop-after 2")
        let rest = try DiffuseBinary.run(MPIWorkspace.vaeArguments(work, out: "mixed", steps: 4) + ["--resume", "--quiet"])
        assertSuccess(rest, "train-vae --resume in one process")
        XCTAssertLessThan(try relativeDistance(work.appendingPathComponent("one/\(weights)"), work.appendingPathComponent("mixed/\(weights)")), 1e-4,
                          "2 ranks then 1 process vs 1 process")
    }

    func testTrainOnTwoRanksMatchesOneProcess() throws {
        let work = try MPIWorkspace.make()
        assertSuccess(try DiffuseBinary.run(MPIWorkspace.vaeArguments(work, out: "vae", steps: 1) + ["--quiet"]), "train-vae")
        func arguments(_ out: String) -> [String] {
            ["train", "--data", work.appendingPathComponent("data").path, "--vae", work.appendingPathComponent("vae").path,
             "--out", work.appendingPathComponent(out).path, "--unet-config", work.appendingPathComponent("unet.json").path,
             "--text-config", work.appendingPathComponent("text.json").path, "--steps", "3", "--batch-size", "4",
             "--warmup", "1", "--sample-every", "0", "--threads", "1", "--quiet"]
        }
        assertSuccess(try DiffuseBinary.run(arguments("one")), "train, one process")
        let two = try MPIJob.run(ranks: 2, arguments("two"), in: work)
        assertSuccess(two, "mpirun -np 2 train")
        XCTAssertEqual(two.stdout.components(separatedBy: "wrote ").count - 1, 1, two.stdout)
        for component in ["unet", "text_encoder"] {
            let file = component == "unet" ? "diffusion_pytorch_model.safetensors" : "model.safetensors"
            let distance = try relativeDistance(work.appendingPathComponent("one/\(component)/\(file)"),
                                                work.appendingPathComponent("two/\(component)/\(file)"))
            XCTAssertLessThan(distance, 1e-4, "\(component): 2 ranks vs 1 process")
        }
        try assertSameLosses(work.appendingPathComponent("one/training/diffusion.csv"),
                             work.appendingPathComponent("two/training/diffusion.csv"))
    }

    func testKilledRankEndsTheJobAndResumeContinues() throws {
        let work = try MPIWorkspace.make()
        let steps = 24
        let reference = try DiffuseBinary.run(MPIWorkspace.vaeArguments(work, out: "one", steps: steps) + ["--quiet"])
        assertSuccess(reference, "train-vae, one process")
        // Each rank leaves its pid; rank 1 is killed once the checkpoint of step 3 is written.
        let arguments = (MPIWorkspace.vaeArguments(work, out: "two", steps: steps) + ["--checkpoint-every", "1", "--quiet"]).joined(separator: " ")
        let job = try MPIJob(ranks: 2, [], perRank: "echo $$ > \(work.path)/pid.$OMPI_COMM_WORLD_RANK; exec \"$DIFFUSE\" \(arguments)", in: work)
        let csv = work.appendingPathComponent("two/training/vae.csv")
        let deadline = Date(timeIntervalSinceNow: 60)
        while job.process.isRunning, Date() < deadline, ((try? lines(csv).count) ?? 0) < 4 { usleep(5_000) }
        let pid = try String(contentsOf: work.appendingPathComponent("pid.1"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(job.process.isRunning, "the job was still training when rank 1 was killed")
        kill(pid_t(pid) ?? 0, SIGKILL)
        let killed = try job.wait(timeout: 60)
        XCTAssertNotEqual(killed.status, 0, "a job with a dead rank fails")
        XCTAssertLessThan(try lines(csv).count, steps + 1, "stopped before the end")

        let resumed = try MPIJob.run(ranks: 2, MPIWorkspace.vaeArguments(work, out: "two", steps: steps) + ["--resume", "--quiet"], in: work)
        assertSuccess(resumed, "mpirun -np 2 train-vae --resume")
        let weights = "diffusion_pytorch_model.safetensors"
        XCTAssertLessThan(try relativeDistance(work.appendingPathComponent("one/\(weights)"), work.appendingPathComponent("two/\(weights)")), 1e-4,
                          "killed and resumed on 2 ranks vs 1 process")
        try assertSameLosses(work.appendingPathComponent("one/training/vae.csv"), csv)
    }

    func testARankThatCannotReadTheDataStopsEveryRankBeforeTraining() throws {
        let work = try MPIWorkspace.make()
        let arguments = MPIWorkspace.vaeArguments(work, out: "out", steps: 2).map { $0.hasSuffix("/data") ? "$DATA" : $0 }.joined(separator: " ")
        let script = "DATA=\(work.path)/data; [ \"$OMPI_COMM_WORLD_RANK\" = 1 ] && DATA=\(work.path)/missing; exec \"$DIFFUSE\" \(arguments)"
        let result = try MPIJob.run(ranks: 2, [], perRank: script, in: work, timeout: 60)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("error: rank 1 of 2 cannot read the data"), result.stderr)
        XCTAssertTrue(result.stderr.contains("another rank cannot read the data"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.appendingPathComponent("out/training/checkpoint.safetensors").path))
    }

    func testAnErrorOnOneRankEndsTheJob() throws {
        let work = try MPIWorkspace.make()
        try Data().write(to: work.appendingPathComponent("a-file"))
        // Rank 1 cannot create its output folder (under a file) while rank 0 waits to all-reduce.
        let arguments = MPIWorkspace.vaeArguments(work, out: "out", steps: 2).map { $0.hasSuffix("/out") ? "$OUT" : $0 }.joined(separator: " ")
        let script = "OUT=\(work.path)/out; [ \"$OMPI_COMM_WORLD_RANK\" = 1 ] && OUT=\(work.path)/a-file/out; exec \"$DIFFUSE\" \(arguments)"
        let result = try MPIJob.run(ranks: 2, [], perRank: script, in: work, timeout: 60)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("a-file/out"), result.stderr)
    }
}
