// A trainable low-rank delta on a Linear (PEFT's LoraLayer): y += scale · x·Aᵀ·Bᵀ, scale = alpha / rank.
import TensorCore

public final class LoRALayer: Module {
    public let down: Parameter   // lora_A: [rank, in]
    public let up: Parameter     // lora_B: [out, rank]
    public let scale: Float

    /// A like PEFT's `reset_lora_parameters` (Kaiming-uniform with a = √5, i.e. bound 1/√in);
    /// B zero, so training starts from the base model exactly.
    public init(inFeatures: Int, outFeatures: Int, rank: Int, alpha: Float, initializer: inout Initializer) {
        down = Parameter(initializer.uniform([rank, inFeatures], bound: 1 / Float(inFeatures).squareRoot()))
        up = Parameter(Tensor.zeros([outFeatures, rank]))
        scale = alpha / Float(rank)
    }

    /// The keys of diffusers' `save_lora_weights` below the module path.
    public var parameters: [(String, Parameter)] { [("lora_A.weight", down), ("lora_B.weight", up)] }

    /// [M, in] → [M, out]: the delta only (the Linear adds it to its own output).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let hidden = Tensor.linear(x, weight: down.value, bias: nil, weightIsParameter: true)         // [M, rank]
        return Tensor.linear(hidden, weight: up.value, bias: nil, weightIsParameter: true) * scale  // [M, out]
    }
}
