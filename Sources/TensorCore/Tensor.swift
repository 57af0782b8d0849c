// Tensor: a contiguous row-major float32 array with a shape, and its place in the autograd graph.
import Foundation

public struct Tensor {
    /// Dimensions, outermost first (PyTorch order: [N, C, H, W]).
    public let shape: [Int]
    /// The values; shared by reshapes, never by two tensors that differ in layout.
    public let storage: TensorStorage
    /// Present when gradients flow through this tensor (a parameter or an op's result).
    var node: GradNode?

    public var count: Int { storage.count }
    public var rank: Int { shape.count }
    @inlinable public var pointer: UnsafeMutablePointer<Float> { storage.pointer }

    init(shape: [Int], storage: TensorStorage, node: GradNode? = nil) {
        self.shape = shape
        self.storage = storage
        self.node = node
    }

    /// An uninitialised tensor, for kernels that write every element.
    public init(uninitializedShape shape: [Int]) {
        self.init(shape: shape, storage: TensorStorage(count: shape.reduce(1, *)))
    }

    public init(shape: [Int], repeating value: Float) {
        self.init(uninitializedShape: shape)
        pointer.update(repeating: value, count: count)
    }

    /// A tensor holding `values` (whose count must equal the product of `shape`).
    public init(shape: [Int], values: [Float]) throws {
        let expected = shape.reduce(1, *)
        guard values.count == expected, shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.shapeMismatch("\(values.count) values do not fill shape \(shape)")
        }
        self.init(uninitializedShape: shape)
        values.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { pointer.update(from: base, count: expected) }
        }
    }

    /// A scalar (rank 0) tensor.
    public init(_ value: Float) {
        self.init(shape: [], repeating: value)
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }

    /// A copy of the values as an array.
    public var values: [Float] {
        if isBFloat16 { return float32Values().values }
        return Array(UnsafeBufferPointer(start: pointer, count: count))
    }

    /// The single value of a one-element tensor.
    public var item: Float { pointer[0] }

    public subscript(flat index: Int) -> Float {
        get { pointer[index] }
        nonmutating set { pointer[index] = newValue }
    }

    /// A copy with its own storage, outside the autograd graph.
    public func copy() -> Tensor {
        if isBFloat16 {
            let result = Tensor(shape: shape, storage: TensorStorage(count: count, bfloat16: true))
            result.storage.bfloat16Pointer.update(from: storage.bfloat16Pointer, count: count)
            return result
        }
        let result = Tensor(uninitializedShape: shape)
        result.pointer.update(from: pointer, count: count)
        return result
    }
}

public enum TensorError: Error, CustomStringConvertible {
    case shapeMismatch(String)
    case invalidArgument(String)
    case kernelFailed(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let s): return "shape mismatch: \(s)"
        case .invalidArgument(let s): return "invalid argument: \(s)"
        case .kernelFailed(let s): return "kernel failed: \(s)"
        }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = values.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape), [\(preview)\(count > 8 ? ", …" : "")])"
    }
}
