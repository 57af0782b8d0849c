// bf16 inference for a model already built in float32: its linear and convolution weights
// rounded to bf16 and stored so (a model built under WeightStorage has them so from the start).
import TensorCore

extension Module {
    /// Stores the weights of every `Linear` and `Conv2d` below this module in bf16 (biases, norms
    /// and embeddings stay float32) and returns the bytes this frees. For models that only infer
    /// under `--precision bf16`, whose products round the weights to bf16 anyway.
    @discardableResult
    public func storeWeightsInBFloat16() -> Int {
        var freed = 0
        func visit(_ module: Module) {
            if let weight = (module as? Linear)?.weight ?? (module as? Conv2d)?.weight, !weight.value.isBFloat16 {
                weight.storeInBFloat16()
                freed += 2 * weight.value.count
            }
            for (_, child) in module.children { visit(child) }
        }
        visit(self)
        return freed
    }
}
