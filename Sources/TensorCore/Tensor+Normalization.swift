// Group norm (optionally fused with SiLU) and layer norm, forward and backward in C kernels.
import CKernels

extension Tensor {
    /// x [N, C, *] normalised per (sample, group of C/groups channels), then scaled per channel.
    public func groupNorm(groups: Int, weight: Tensor, bias: Tensor, eps: Float, silu: Bool = false) -> Tensor {
        let n = shape[0], c = shape[1], hw = count / Swift.max(n * c, 1)
        guard c % groups == 0, weight.count == c, bias.count == c else {
            shapeFailure("group norm of \(shape) with \(groups) groups and \(weight.shape) scales")
        }
        let y = Tensor(uninitializedShape: shape)
        let mean = Tensor(uninitializedShape: [n * groups]), rstd = Tensor(uninitializedShape: [n * groups])
        OpProfile.measure(.norm) {
            Tensor.check(dk_group_norm_forward(pointer, weight.pointer, bias.pointer, y.pointer, mean.pointer, rstd.pointer,
                                               Int64(n), Int64(c), Int64(hw), Int64(groups), eps, silu ? 1 : 0), "group norm")
        }
        let x = self
        return Tensor.record(y, [x, weight, bias]) { g in
            OpProfile.measure(.norm, .backward) {
                let dx = Tensor(uninitializedShape: x.shape)
                let dw = Tensor(uninitializedShape: weight.shape), db = Tensor(uninitializedShape: bias.shape)
                Tensor.check(dk_group_norm_backward(g.pointer, x.pointer, weight.pointer, bias.pointer, mean.pointer, rstd.pointer,
                                                    dx.pointer, dw.pointer, db.pointer,
                                                    Int64(n), Int64(c), Int64(hw), Int64(groups), silu ? 1 : 0), "group norm backward")
                return [dx, dw, db]
            }
        }
    }

    /// Normalises over the last dim, then scales and shifts: [..., D] → [..., D].
    public func layerNorm(weight: Tensor, bias: Tensor, eps: Float) -> Tensor {
        let d = shape[rank - 1], rows = count / Swift.max(d, 1)
        let y = Tensor(uninitializedShape: shape)
        let mean = Tensor(uninitializedShape: [rows]), rstd = Tensor(uninitializedShape: [rows])
        OpProfile.measure(.norm) {
            Tensor.check(dk_layer_norm_forward(pointer, weight.pointer, bias.pointer, y.pointer, mean.pointer, rstd.pointer,
                                               Int64(rows), Int64(d), eps), "layer norm")
        }
        let x = self
        return Tensor.record(y, [x, weight, bias]) { g in
            OpProfile.measure(.norm, .backward) {
                let dx = Tensor(uninitializedShape: x.shape)
                let dw = Tensor(uninitializedShape: weight.shape), db = Tensor(uninitializedShape: bias.shape)
                Tensor.check(dk_layer_norm_backward(g.pointer, x.pointer, weight.pointer, mean.pointer, rstd.pointer,
                                                    dx.pointer, dw.pointer, db.pointer, Int64(rows), Int64(d)), "layer norm backward")
                return [dx, dw, db]
            }
        }
    }
}
