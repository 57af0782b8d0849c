// Module: a layer that names its parameters and children the way diffusers checkpoints do.
import CKernels
import TensorCore

/// A trainable tensor owned by a module. Its storage is updated in place by loading and
/// by optimizers, so every holder sees the new values.
public final class Parameter {
    public private(set) var value: Tensor
    /// A bf16 value (a weight stored for bf16 inference) takes no gradients.
    public init(_ value: Tensor) { self.value = value.isBFloat16 ? value : value.requiringGrad() }
    public var shape: [Int] { value.shape }
    public var grad: Tensor? { value.grad }
    public func zeroGrad() { value.zeroGrad() }
    /// Stops collecting gradients (frozen base weights under a LoRA); the storage is shared.
    public func freeze() { value = value.detached() }

    /// Keeps the values in bf16 from now on (bf16 inference): half the memory, read as they are
    /// by the bf16 products. Gradients no longer reach it.
    public func storeInBFloat16() { value = value.storedInBFloat16() }

    /// Replaces the values (same shape) without changing identity; a bf16 parameter takes them rounded.
    public func assign(_ values: Tensor) throws {
        guard values.shape == value.shape else {
            throw TensorError.shapeMismatch("parameter of shape \(value.shape) cannot take \(values.shape)")
        }
        let source = values.float32Values()
        if value.isBFloat16 {
            dk_bf16_from_f32(source.pointer, value.storage.bfloat16Pointer, Int64(value.count))
        } else {
            value.pointer.update(from: source.pointer, count: value.count)
        }
    }
}

/// A layer. Children and parameters are registered explicitly under their checkpoint names
/// (`conv1`, `resnets.0`, `to_out.0`); the same walk serves loading, saving, optimizers and EMA.
public protocol Module: AnyObject {
    /// This module's own parameters, by local name (`weight`, `bias`).
    var parameters: [(String, Parameter)] { get }
    /// Named submodules, in checkpoint order.
    var children: [(String, Module)] { get }
}

extension Module {
    public var parameters: [(String, Parameter)] { [] }
    public var children: [(String, Module)] { [] }

    /// Every parameter below this module with its full dotted key.
    public func namedParameters(prefix: String = "") -> [(key: String, parameter: Parameter)] {
        var result = parameters.map { (key: prefix + $0.0, parameter: $0.1) }
        for (name, child) in children {
            result += child.namedParameters(prefix: prefix + name + ".")
        }
        return result
    }

    /// The number of scalar parameters below this module.
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.parameter.value.count } }

    public func zeroGrad() { for (_, p) in namedParameters() { p.zeroGrad() } }
}

/// Children numbered as diffusers numbers list members (`resnets.0`, `resnets.1`).
public func numbered(_ name: String, _ modules: [Module]) -> [(String, Module)] {
    modules.enumerated().map { ("\(name).\($0.offset)", $0.element) }
}
