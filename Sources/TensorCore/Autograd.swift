// Reverse-mode autodiff: each op result records its inputs and how to map its gradient back.
import Foundation

/// One vertex of the graph. Leaves are parameters; inner nodes are op results.
final class GradNode {
    var grad: Tensor?
    let inputs: [GradNode?]
    /// Maps the gradient of the result to a gradient for each input (nil where none flows).
    var backward: ((Tensor) -> [Tensor?])?
    let isLeaf: Bool

    init(leaf: Void) {
        inputs = []
        backward = nil
        isLeaf = true
    }

    init(inputs: [GradNode?], backward: @escaping (Tensor) -> [Tensor?]) {
        self.inputs = inputs
        self.backward = backward
        isLeaf = false
    }

    /// Adds `gradient` into this node's gradient (accumulation across uses and steps), in float32
    /// where either is stored in bf16 (the gradient of a bf16 value may be bf16).
    /// Out of place: backward closures may hand the same tensor to several inputs.
    func accumulate(_ gradient: Tensor) {
        grad = grad.map { $0.float32Values() + gradient.float32Values() } ?? gradient
    }
}

public enum Autograd {
    /// Whether ops record the graph. Off during inference so intermediates free at once.
    nonisolated(unsafe) public static var isEnabled = true

    /// Runs `body` without recording any graph (PyTorch's `torch.no_grad()`).
    public static func withoutGrad<T>(_ body: () throws -> T) rethrows -> T {
        let previous = isEnabled
        isEnabled = false
        defer { isEnabled = previous }
        return try body()
    }
}

extension Tensor {
    /// Whether gradients flow to or through this tensor.
    public var requiresGrad: Bool { node != nil }

    /// This tensor as a leaf that collects gradients (a trainable parameter).
    public func requiringGrad() -> Tensor {
        Tensor(shape: shape, storage: storage, node: GradNode(leaf: ()))
    }

    /// The same values, cut off from the graph.
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// The accumulated gradient of a leaf after `backward()`.
    public var grad: Tensor? { node?.grad }

    /// Clears a leaf's accumulated gradient.
    public func zeroGrad() { node?.grad = nil }

    /// Wraps an op's result: records `inputs` and `backward` when any input needs a gradient.
    static func record(_ result: Tensor, _ inputs: [Tensor], _ backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        guard Autograd.isEnabled, inputs.contains(where: { $0.node != nil }) else { return result }
        var tracked = result
        tracked.node = GradNode(inputs: inputs.map { $0.node }, backward: backward)
        return tracked
    }

    /// Back-propagates from this tensor (a scalar loss unless `gradient` is given) into
    /// every leaf's `grad`. The graph is consumed: its closures are released as it goes.
    public func backward(_ gradient: Tensor? = nil) {
        guard let root = node else { return }
        root.accumulate(gradient ?? Tensor(shape: shape, repeating: 1))
        for current in GradNode.topologicalOrder(from: root) {
            guard let backward = current.backward, let outputGradient = current.grad else { continue }
            let inputGradients = backward(outputGradient)
            current.backward = nil
            if !current.isLeaf { current.grad = nil }
            for (input, gradient) in zip(current.inputs, inputGradients) {
                if let input, let gradient { input.accumulate(gradient) }
            }
        }
    }
}

extension GradNode {
    /// Nodes ordered so that each comes before all of its inputs (iterative DFS).
    static func topologicalOrder(from root: GradNode) -> [GradNode] {
        var order: [GradNode] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(GradNode, Int)] = [(root, 0)]
        visited.insert(ObjectIdentifier(root))
        while let (node, next) = stack.popLast() {
            if next < node.inputs.count {
                stack.append((node, next + 1))
                if let input = node.inputs[next], input.backward != nil,
                   visited.insert(ObjectIdentifier(input)).inserted {
                    stack.append((input, 0))
                }
            } else {
                order.append(node)
            }
        }
        return order.reversed()
    }
}
