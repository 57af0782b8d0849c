// 2-D convolution (NCHW input, OIHW weight) on oneDNN, with both backward passes.
import CKernels

extension Tensor {
    /// x [N, C, H, W], weight [K, C, R, S], bias [K] → [N, K, OH, OW].
    public static func conv2d(_ x: Tensor, _ weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) -> Tensor {
        guard x.rank == 4, weight.rank == 4, x.shape[1] == weight.shape[1] else {
            shapeFailure("conv2d of input \(x.shape) with weight \(weight.shape)")
        }
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (k, r, s) = (weight.shape[0], weight.shape[2], weight.shape[3])
        let oh = (h + 2 * padding - r) / stride + 1, ow = (w + 2 * padding - s) / stride + 1
        let y = Tensor(uninitializedShape: [n, k, oh, ow])
        let dims = (Int64(n), Int64(c), Int64(h), Int64(w), Int64(k), Int64(r), Int64(s), Int64(stride), Int64(padding), Int64(oh), Int64(ow))
        let part: OpProfile.Part = r == 3 && s == 3 ? .convolution3x3 : .convolutionOther
        OpProfile.measure(part) {
            if weight.isBFloat16 {
                check(dk_conv2d_forward_bf16_weights(x.pointer, weight.storage.bfloat16Pointer, bias?.pointer, y.pointer, dims.0, dims.1,
                                                     dims.2, dims.3, dims.4, dims.5, dims.6, dims.7, dims.8, dims.9, dims.10), "conv2d forward")
            } else {
                check(dk_conv2d_forward(x.pointer, weight.pointer, bias?.pointer, y.pointer,
                                        dims.0, dims.1, dims.2, dims.3, dims.4, dims.5, dims.6, dims.7, dims.8, dims.9, dims.10), "conv2d forward")
            }
        }
        var inputs = [x, weight]
        if let bias { inputs.append(bias) }
        // The input is kept for the weight and bias gradients only: a frozen layer (a LoRA's
        // base model) lets it go after the forward pass.
        let inputNeedsGrad = x.requiresGrad, inputShape = x.shape
        let savedInput = weight.requiresGrad || bias?.requiresGrad == true ? x : nil
        return record(y, inputs) { g in
            OpProfile.measure(part, .backward) {
                var dx: Tensor?, dw: Tensor?, db: Tensor?
                if inputNeedsGrad {
                    let t = Tensor(uninitializedShape: inputShape), w = weight.float32Values()
                    withExtendedLifetime(w) {
                        check(dk_conv2d_backward_data(g.pointer, w.pointer, t.pointer, dims.0, dims.1, dims.2, dims.3, dims.4,
                                                      dims.5, dims.6, dims.7, dims.8, dims.9, dims.10), "conv2d backward data")
                    }
                    dx = t
                }
                if let x = savedInput {
                    let t = Tensor(uninitializedShape: weight.shape)
                    let b = bias.map { Tensor(uninitializedShape: $0.shape) }
                    check(dk_conv2d_backward_weights(x.pointer, g.pointer, t.pointer, b?.pointer,
                                                     dims.0, dims.1, dims.2, dims.3, dims.4, dims.5, dims.6, dims.7, dims.8, dims.9, dims.10), "conv2d backward weights")
                    dw = t
                    db = b
                }
                return bias == nil ? [dx, dw] : [dx, dw, db]
            }
        }
    }

    /// Kernel failures come only from invalid sizes or allocation failure inside a library:
    /// bugs or exhaustion, not user input.
    static func check(_ status: Int32, _ what: String) {
        if status != 0 { shapeFailure("\(what) failed with status \(status)") }
    }
}
