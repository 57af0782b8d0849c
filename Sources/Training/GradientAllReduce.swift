// The seam for data-parallel training: where gradients meet across ranks before each update.
import NN

/// Combines the gradients of every rank into their mean, in place, before clipping and the
/// update, so all ranks take the same step. One process needs none (the loop's default);
/// an MPI implementation would sum each gradient with MPI_Allreduce and divide by the size.
/// Each rank must then also draw different micro-batches (the sampler sharded by rank, e.g.
/// every size-th draw from rank), and the loop's state and checkpoints stay those of rank 0.
public protocol GradientAllReduce: AnyObject {
    /// This process's rank; only rank 0 writes logs, checkpoints and samples.
    var rank: Int { get }
    /// Replaces each parameter's gradient, and `loss` (this rank's micro-batch mean), with
    /// their means over ranks.
    func allReduce(_ parameters: [(key: String, parameter: Parameter)], loss: inout Float) throws
}
