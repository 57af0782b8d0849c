// The gradient all-reduce over MPI: every gradient packed into one flat float buffer, summed
// with one MPI_Allreduce per optimiser step, and unpacked; timed for the report.
import Dispatch
import NN
import Training

public final class MPIGradientAllReduce: GradientAllReduce {
    public let world: MPIWorld
    public var rank: Int { world.rank }
    public var size: Int { world.size }
    /// Kept between steps: the same layout every step.
    private var buffer: [Float] = []
    /// All-reduce calls, their time on this rank (including waits for slower ranks) and bytes each.
    public private(set) var calls = 0
    public private(set) var seconds = 0.0
    public private(set) var bytesPerCall = 0

    public init(world: MPIWorld) { self.world = world }

    public func allReduce(_ parameters: [(key: String, parameter: Parameter)], values: inout [Float]) throws {
        let count = parameters.reduce(0) { $0 + $1.parameter.value.count } + values.count
        if buffer.count != count { buffer = [Float](repeating: 0, count: count) }
        try buffer.withUnsafeMutableBufferPointer { flat in
            guard let base = flat.baseAddress else { return }
            var offset = 0
            for (_, parameter) in parameters {
                let n = parameter.value.count
                // A parameter the loss did not reach has no gradient: it adds zeros.
                if let grad = parameter.grad { (base + offset).update(from: grad.pointer, count: n) } else { (base + offset).update(repeating: 0, count: n) }
                offset += n
            }
            for (i, value) in values.enumerated() { base[offset + i] = value }
            let start = DispatchTime.now().uptimeNanoseconds
            try world.sum(flat)
            seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            offset = 0
            for (_, parameter) in parameters {
                let n = parameter.value.count
                if let grad = parameter.grad { grad.pointer.update(from: base + offset, count: n) }
                offset += n
            }
            for i in values.indices { values[i] = base[offset + i] }
        }
        calls += 1
        bytesPerCall = count * MemoryLayout<Float>.size
    }

    /// One line for rank 0 to print at the end of a run.
    public var summary: String {
        let perCall = calls > 0 ? seconds / Double(calls) : 0
        return String(format: "all-reduce: %d ranks, %d calls of %.2f MB, %.1f ms each on rank %d (%.0f MB/s, waits included)",
                      size, calls, Double(bytesPerCall) / 1e6, perCall * 1e3, rank,
                      perCall > 0 ? Double(bytesPerCall) / perCall / 1e6 : 0)
    }
}
