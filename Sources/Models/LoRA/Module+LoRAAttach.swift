// Attaches trainable LoRA layers to a model's attention projections, and freezes its own weights.
import NN
import TensorCore

extension Module {
    /// Every Linear below this module with its dotted path (`down_blocks.1…attn1.to_q`).
    public func namedLinears(prefix: String = "") -> [(path: String, linear: Linear)] {
        var result: [(path: String, linear: Linear)] = []
        for (name, child) in children {
            if let linear = child as? Linear { result.append((prefix + name, linear)) }
            result += child.namedLinears(prefix: prefix + name + ".")
        }
        return result
    }

    /// Freezes every weight, then gives each Linear whose path ends in one of `layers`
    /// (`to_q`, `to_out.0`) a fresh adapter. Returns the adapters' parameters keyed as diffusers'
    /// `save_lora_weights` keys them below the model (`<path>.lora_A.weight`, `<path>.lora_B.weight`).
    public func attachLoRA(layers: [String], rank: Int, alpha: Float, initializer: inout Initializer)
        -> [(key: String, parameter: Parameter)] {
        for (_, parameter) in namedParameters() { parameter.freeze() }
        var trainable: [(key: String, parameter: Parameter)] = []
        for (path, linear) in namedLinears() where layers.contains(where: { path == $0 || path.hasSuffix("." + $0) }) {
            let layer = LoRALayer(inFeatures: linear.weight.shape[1], outFeatures: linear.weight.shape[0],
                                  rank: rank, alpha: alpha, initializer: &initializer)
            linear.adapter = layer
            trainable += layer.namedParameters(prefix: path + ".")
        }
        return trainable
    }
}
