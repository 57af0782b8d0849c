// The MPI job this process runs in, when mpirun started it: rank, size, ranks per host.
// Without mpirun nothing here runs MPI_Init, so one process trains exactly as before.
import CMPIShim
import Foundation

public enum DataParallelError: Error, CustomStringConvertible {
    case mpi(String)

    public var description: String {
        switch self {
        case .mpi(let text): return text
        }
    }
}

public final class MPIWorld {
    public let rank: Int
    public let size: Int
    /// Ranks on this host (Open MPI's OMPI_COMM_WORLD_LOCAL_SIZE), who share its cores.
    public let localSize: Int

    /// Open MPI's launcher (mpirun, or a PMIx launcher such as srun) sets these in every rank.
    public static var launchedByMPI: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil
    }

    private init(rank: Int, size: Int, localSize: Int) {
        self.rank = rank
        self.size = size
        self.localSize = localSize
    }

    /// Joins the job (MPI_Init) when launched by mpirun; nil otherwise.
    public static func join() throws -> MPIWorld? {
        guard launchedByMPI else { return nil }
        var text = [CChar](repeating: 0, count: 512)
        guard dmpi_init(&text, Int32(text.count)) == 0 else {
            throw DataParallelError.mpi("MPI_Init failed: \(String(cString: text))")
        }
        let size = Int(dmpi_size())
        let local = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int($0) }
        return MPIWorld(rank: Int(dmpi_rank()), size: size, localSize: max(1, min(local ?? size, size)))
    }

    /// Threads for this rank: the cores it may use, shared with the other ranks on its host.
    /// `available` is what the OpenMP pool sees (mpirun may have bound the rank to fewer cores).
    public func threadShare(cores: Int, available: Int) -> Int {
        max(1, min(available, cores / localSize))
    }

    /// True on every rank when `ok` is true on every rank (a reduction, so no rank waits alone).
    public func allAgree(_ ok: Bool) throws -> Bool {
        var value: Int32 = ok ? 1 : 0
        let rc = dmpi_allreduce_min_int(&value)
        guard rc == 0 else { throw DataParallelError.mpi("MPI_Allreduce failed: \(Self.errorText(rc))") }
        return value == 1
    }

    /// In place: each value becomes its sum over ranks.
    public func sum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        let rc = dmpi_allreduce_sum_float(values.baseAddress, Int64(values.count))
        guard rc == 0 else { throw DataParallelError.mpi("MPI_Allreduce of \(values.count) floats failed: \(Self.errorText(rc))") }
    }

    /// Ends the whole job: the other ranks may be waiting in a collective call for this one.
    public func abort(code: Int32 = 1) -> Never {
        dmpi_abort(code)
        exit(code)
    }

    public func finalize() { _ = dmpi_finalize() }

    static func errorText(_ code: Int32) -> String {
        var text = [CChar](repeating: 0, count: 512)
        dmpi_error_string(code, &text, Int32(text.count))
        return String(cString: text)
    }
}
