// How new layers store their weights: float32, or bf16 for a model built only to infer under
// native bf16, so that the model never exists in float32 at all (SD 1.5's U-Net is 3.4 GB in
// float32, 1.7 GB in bf16). Loading rounds the file's values into the bf16 weights.
import TensorCore

public enum WeightStorage {
    /// Whether `Linear` and `Conv2d` layers built now store their weights in bf16.
    nonisolated(unsafe) public private(set) static var bfloat16 = false

    /// Runs `body` (building and loading a model) with new linear and convolution weights stored
    /// in bf16 when `inBFloat16`; biases, norms and embeddings stay float32.
    public static func building<T>(inBFloat16: Bool, _ body: () throws -> T) rethrows -> T {
        let previous = bfloat16
        bfloat16 = inBFloat16
        defer { bfloat16 = previous }
        return try body()
    }
}

extension Parameter {
    /// A layer's weight, stored as `WeightStorage` says.
    convenience init(weight: Tensor) {
        self.init(WeightStorage.bfloat16 ? weight.storedInBFloat16() : weight)
    }
}
