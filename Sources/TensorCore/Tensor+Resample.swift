// Nearest-neighbour 2× upsampling of NCHW feature maps, with backward.
import Foundation

extension Tensor {
    /// [N, C, H, W] → [N, C, 2H, 2W], each pixel repeated in a 2×2 block.
    public func upsampledNearest2x() -> Tensor {
        let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        let result = Tensor(uninitializedShape: [shape[0], shape[1], 2 * h, 2 * w])
        let src = pointer, dst = result.pointer
        parallelFor(planes, minChunk: Swift.max(1, 8192 / Swift.max(h * w, 1))) { begin, end in
            for p in begin..<end {
                let inPlane = src + p * h * w, outPlane = dst + p * 4 * h * w
                for y in 0..<h {
                    let row = outPlane + 2 * y * 2 * w
                    for x in 0..<w {
                        let v = inPlane[y * w + x]
                        row[2 * x] = v
                        row[2 * x + 1] = v
                    }
                    (row + 2 * w).update(from: row, count: 2 * w)
                }
            }
        }
        let x = self
        return Tensor.record(result, [x]) { g in
            let dx = Tensor(uninitializedShape: x.shape)
            let gp = g.pointer, dp = dx.pointer
            parallelFor(planes, minChunk: Swift.max(1, 8192 / Swift.max(h * w, 1))) { begin, end in
                for p in begin..<end {
                    let gPlane = gp + p * 4 * h * w, dPlane = dp + p * h * w
                    for y in 0..<h {
                        let r0 = gPlane + 2 * y * 2 * w, r1 = r0 + 2 * w
                        for x in 0..<w { dPlane[y * w + x] = r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1] }
                    }
                }
            }
            return [dx]
        }
    }
}
