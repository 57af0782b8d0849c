// The seam for data-parallel training: where gradients meet across ranks before each update.
import NN

/// Sums the gradients of every rank, in place, before clipping and the update, so all ranks
/// take the same step. One process needs none (the loop's default); `DataParallel` sums
/// over MPI. Each rank computes its shard of every global micro-batch (`BatchShard`) and
/// scales its loss by its share of the batch, so the sums are the global means. Every rank
/// keeps the same global state (data order, random draws), so a checkpoint is the same
/// whatever the number of ranks; only rank 0 writes logs, checkpoints and samples.
public protocol GradientAllReduce: AnyObject {
    /// This process's rank, in 0..<size.
    var rank: Int { get }
    /// The number of ranks.
    var size: Int { get }
    /// Replaces each parameter's gradient, and each of `values` (this rank's weighted loss
    /// and metrics), with its sum over ranks.
    func allReduce(_ parameters: [(key: String, parameter: Parameter)], values: inout [Float]) throws
}
