// Data-parallel training in the CLI: joins the MPI job when mpirun started this process,
// shares the host's cores among its ranks, agrees on the data, and ends the whole job when
// one rank fails (its peers would otherwise wait for it in the next all-reduce).
import ArgumentParser
import DataParallel
import Foundation
import TensorCore
import Training

final class DataParallelRun {
    /// nil without mpirun: one process, no MPI call at all.
    let world: MPIWorld?
    let allReduce: MPIGradientAllReduce?
    /// Set when every rank knows the run failed (an agreed verdict): they stop cleanly.
    private var agreedFailure = false

    private init(world: MPIWorld?) {
        self.world = world
        allReduce = world.map { MPIGradientAllReduce(world: $0) }
    }

    /// Rank 0 (or the only process) writes files and prints.
    var writes: Bool { (world?.rank ?? 0) == 0 }
    var ranks: Int { world?.size ?? 1 }

    /// Runs a training command's body, in an MPI job when launched by mpirun. An error on one
    /// of several ranks (printed by the body's error reporting) ends the job with MPI_Abort.
    static func run(threads: Int?, _ body: (DataParallelRun) throws -> Void) throws {
        let run: DataParallelRun
        do {
            run = DataParallelRun(world: try MPIWorld.join())
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        if let world = run.world {
            if let threads { Threads.count = threads } else {
                Threads.count = world.threadShare(cores: ProcessInfo.processInfo.activeProcessorCount, available: Threads.count)
            }
        }
        do {
            try body(run)
        } catch {
            if let world = run.world, world.size > 1, !run.agreedFailure { world.abort(code: 1) }
            run.world?.finalize()
            throw error
        }
        run.world?.finalize()
    }

    /// Loads the data on every rank and reduces the verdict before training starts: a rank
    /// that cannot read it says so, and every rank stops.
    func loadData(_ load: () throws -> CaptionedImageFolder) throws -> CaptionedImageFolder {
        guard let world, world.size > 1 else { return try load() }
        var failure: Error?
        var data: CaptionedImageFolder?
        do { data = try load() } catch { failure = error }
        let everyone = try world.allAgree(failure == nil)
        if let data, everyone { return data }
        agreedFailure = true
        if let failure { throw CommandFailure(message: "rank \(world.rank) of \(world.size) cannot read the data: \(failure)") }
        if writes { throw CommandFailure(message: "another rank cannot read the data (see its message); nothing was trained") }
        throw ExitCode.failure
    }

    /// Rank 0's report of the all-reduce, after training.
    func report(quiet: Bool) {
        guard writes, !quiet, let allReduce, allReduce.calls > 0 else { return }
        FileHandle.standardError.write(Data((allReduce.summary + "\n").utf8))
    }
}
