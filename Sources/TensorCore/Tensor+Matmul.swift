// Matrix products on oneDNN's sgemm (dk_gemm: in bf16 under the bf16 precision): plain, batched, and with a shared right-hand matrix.
import CKernels

extension Tensor {
    /// C = op(A)·op(B) for the last two dims. A is [..., M, K] ([..., K, M] when transposed);
    /// B is [..., K, N] with the same batch, or a single [K, N] shared by every batch
    /// ([N, K] / [..., N, K] when transposed).
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        guard a.rank >= 2, b.rank >= 2 else { shapeFailure("matmul needs matrices, got \(a.shape) and \(b.shape)") }
        let m = transposeA ? a.shape[a.rank - 1] : a.shape[a.rank - 2]
        let k = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
        let kb = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]
        let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
        let batchShape = Array(a.shape.dropLast(2))
        let batch = batchShape.reduce(1, *)
        // Both 2-D is a plain GEMM (batch 1); "shared" means one B for a batched A.
        let sharedB = b.rank == 2 && a.rank > 2
        guard k == kb, sharedB ? !transposeA : Array(b.shape.dropLast(2)) == batchShape else {
            shapeFailure("matmul of \(a.shape) (T: \(transposeA)) and \(b.shape) (T: \(transposeB))")
        }
        let result = Tensor(uninitializedShape: batchShape + [m, n])
        gemmBatched(a.pointer, b.pointer, result.pointer, batch: batch, m: m, n: n, k: k,
                    transposeA: transposeA, transposeB: transposeB, sharedB: sharedB, accumulate: false)
        return record(result, [a, b]) { g in
            // d op(A) = dC·op(B)ᵀ and d op(B) = op(A)ᵀ·dC, written back in A's and B's layouts.
            var da: Tensor?, db: Tensor?
            if a.requiresGrad {
                da = transposeA ? matmul(b, g, transposeA: transposeB, transposeB: true)
                                : matmul(g, b, transposeB: !transposeB)
            }
            if b.requiresGrad {
                if sharedB {
                    // Sum over the batch by folding it into the GEMM's inner dimension.
                    let a2 = a.reshaped([batch * m, k]), g2 = g.reshaped([batch * m, n])
                    db = transposeB ? matmul(g2, a2, transposeA: true) : matmul(a2, g2, transposeA: true)
                } else {
                    db = transposeB ? matmul(g, a, transposeA: true, transposeB: transposeA)
                                    : matmul(a, g, transposeA: !transposeA)
                }
            }
            return [da, db]
        }
    }

    /// x·Wᵀ + b (nn.Linear): x [M, K], weight [N, K], bias [N] → [M, N], the bias added without
    /// a pass of its own over the output (`dk_linear`). A weight stored in bf16 is read as it is.
    /// `weightIsParameter`: a float32 `weight` holds a model parameter's own storage (not a
    /// temporary), so inside `FrozenWeights.during` its bf16 copy may be kept across calls.
    /// `outputInBFloat16`: under native bf16 the output is rounded to bf16 and stored so, for a
    /// reader that takes bf16 (GEGLU); its gradient may then come back in bf16 too.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, weightIsParameter: Bool = false,
                              outputInBFloat16: Bool = false) -> Tensor {
        guard x.rank == 2, weight.rank == 2, x.shape[1] == weight.shape[1],
              bias.map({ $0.shape == [weight.shape[0]] }) ?? true else {
            shapeFailure("linear of \(x.shape) with weight \(weight.shape) and bias \(bias?.shape ?? [])")
        }
        let (m, k, n) = (x.shape[0], x.shape[1], weight.shape[0])
        let tracking = Autograd.isEnabled && (x.requiresGrad || weight.requiresGrad || bias?.requiresGrad == true)
        // The backward pass keeps x only for the weight gradient, whose bf16 product reads it
        // rounded: under bf16 it keeps that rounding (half the bytes; x itself is then often held
        // by nothing else and freed), which both products read without converting x again.
        // Under native bf16 a trained float32 weight is rounded once for the forward product and
        // the input gradient's, instead of by each (a frozen one is not: its copy would outlive the
        // forward pass in every layer at once).
        let inputNeedsGrad = x.requiresGrad
        let (result, savedInput, operandWeight) = OpProfile.measure(.linear) {
            let savedInput = !(tracking && weight.requiresGrad) ? nil : ComputePrecision.mode == .float32 ? x : x.storedInBFloat16()
            let input = savedInput?.isBFloat16 == true ? savedInput! : x
            let roundsWeightOnce = tracking && inputNeedsGrad && weight.requiresGrad && !weight.isBFloat16
                && ComputePrecision.mode == .bfloat16
            let weight = roundsWeightOnce ? weight.storedInBFloat16() : weight
            let bf16Output = outputInBFloat16 && ComputePrecision.mode == .bfloat16
            let result = Tensor(shape: [m, n], storage: TensorStorage(count: m * n, bfloat16: bf16Output))
            let inputs = input.isBFloat16 ? UnsafeRawPointer(input.storage.bfloat16Pointer) : UnsafeRawPointer(input.pointer)
            let weights = weight.isBFloat16 ? UnsafeRawPointer(weight.storage.bfloat16Pointer) : UnsafeRawPointer(weight.pointer)
            let outputs = bf16Output ? UnsafeMutableRawPointer(result.storage.bfloat16Pointer) : UnsafeMutableRawPointer(result.pointer)
            check(dk_linear(Int64(m), Int64(n), Int64(k), inputs, input.isBFloat16 ? 1 : 0, weights, weight.isBFloat16 ? 1 : 0,
                            weightIsParameter ? 1 : 0, bias?.pointer, outputs, bf16Output ? 1 : 0), "linear")
            return (result, savedInput, weight)
        }
        guard tracking else { return result }
        return record(result, [x, weight] + (bias.map { [$0] } ?? [])) { g in
            OpProfile.measure(.linear, .backward) {
                // Native bf16 with both products: they read one bf16 copy of g instead of converting it
                // each, rounded in the pass that sums the bias gradient.
                let biasNeedsGrad = bias?.requiresGrad == true
                let biasGradient = { biasNeedsGrad ? columnSums(g) : nil }
                if inputNeedsGrad, let input = savedInput, input.isBFloat16, ComputePrecision.mode == .bfloat16 {
                    let (rounded, sums) = roundedWithColumnSums(g, sums: biasNeedsGrad)
                    if let gradients = bfloat16Gradients(rounded, weight: operandWeight, input: input) {
                        return [gradients.input, gradients.weight, sums]
                    }
                }
                let g = g.float32Values()
                return [inputNeedsGrad ? (operandWeight.isBFloat16 ? productWithBFloat16(g, operandWeight) : matmul(g, operandWeight)) : nil,
                        savedInput.map { $0.isBFloat16 ? productWithBFloat16(g, $0, transposeA: true) : matmul(g, $0, transposeA: true) },
                        biasGradient()]
            }
        }
    }

    /// g [M, N] summed over its rows → [N] (a bias gradient), from float32 or bf16 storage.
    static func columnSums(_ g: Tensor) -> Tensor {
        guard g.isBFloat16 else { return g.summed(toShape: [g.shape[1]]) }
        let sums = Tensor(uninitializedShape: [g.shape[1]])
        check(dk_bf16_column_sums(g.storage.bfloat16Pointer, sums.pointer, Int64(g.shape[0]), Int64(g.shape[1])), "bias gradient")
        return sums
    }

    /// g [M, N] stored in bf16, and its column sums when `sums` (in float32, from g's own values):
    /// one pass over a float32 g for both.
    static func roundedWithColumnSums(_ g: Tensor, sums: Bool) -> (Tensor, Tensor?) {
        guard !g.isBFloat16 else { return (g, sums ? columnSums(g) : nil) }
        guard sums else { return (g.storedInBFloat16(), nil) }
        let rounded = Tensor(shape: g.shape, storage: TensorStorage(count: g.count, bfloat16: true))
        let columnSums = Tensor(uninitializedShape: [g.shape[1]])
        check(dk_bf16_from_f32_column_sums(g.pointer, rounded.storage.bfloat16Pointer, columnSums.pointer,
                                           Int64(g.shape[0]), Int64(g.shape[1])), "bias gradient")
        return (rounded, columnSums)
    }

    /// `linear`'s input gradient g · W [M, K] and weight gradient gᵀ · x [N, K] from g [M, N] and x
    /// [M, K] stored in bf16, W [N, K] in either format; nil where oneDNN refuses them.
    static func bfloat16Gradients(_ g: Tensor, weight: Tensor, input: Tensor) -> (input: Tensor, weight: Tensor)? {
        let (m, n, k) = (g.shape[0], g.shape[1], weight.shape[1])
        let dx = Tensor(uninitializedShape: [m, k]), dw = Tensor(uninitializedShape: [n, k])
        let weights = weight.isBFloat16 ? UnsafeRawPointer(weight.storage.bfloat16Pointer) : UnsafeRawPointer(weight.pointer)
        guard dk_matmul_bf16_input(0, 0, Int64(m), Int64(k), Int64(n), 1, g.storage.bfloat16Pointer, Int64(n), weights,
                                   weight.isBFloat16 ? 1 : 0, Int64(k), 0, dx.pointer, Int64(k)) == 0,
              dk_matmul_bf16_input(1, 0, Int64(n), Int64(k), Int64(m), 1, g.storage.bfloat16Pointer, Int64(n),
                                   input.storage.bfloat16Pointer, 1, Int64(k), 0, dw.pointer, Int64(k)) == 0 else { return nil }
        return (dx, dw)
    }

    /// op(a) [M, N] · b [N, K] → [M, K] for b stored in bf16, read as it is: `linear`'s input
    /// gradient on a frozen base weight under a LoRA (g · W), or its weight gradient on the
    /// input kept in bf16 (gᵀ · x).
    static func productWithBFloat16(_ a: Tensor, _ b: Tensor, transposeA: Bool = false) -> Tensor {
        let (m, n, k) = (transposeA ? a.shape[1] : a.shape[0], transposeA ? a.shape[0] : a.shape[1], b.shape[1])
        precondition(b.isBFloat16 && b.shape[0] == n, "product of \(a.shape) (T: \(transposeA)) and bf16 \(b.shape)")
        let result = Tensor(uninitializedShape: [m, k])
        check(dk_gemm_bf16_weights(transposeA ? 1 : 0, 0, Int64(m), Int64(k), Int64(n), 1, a.pointer, Int64(a.shape[1]),
                                   b.storage.bfloat16Pointer, Int64(k), 0, result.pointer, Int64(k)), "linear gradient")
        return result
    }

    /// Runs `batch` GEMMs; with a shared B and no transposed A, as one tall GEMM.
    static func gemmBatched(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                            batch: Int, m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool,
                            sharedB: Bool, accumulate: Bool) {
        let ta: Int32 = transposeA ? 1 : 0, tb: Int32 = transposeB ? 1 : 0
        let lda = Int64(transposeA ? m : k), ldb = Int64(transposeB ? k : n)
        let beta: Float = accumulate ? 1 : 0
        if sharedB && !transposeA {
            dk_gemm(ta, tb, Int64(batch * m), Int64(n), Int64(k), 1, a, lda, b, ldb, beta, c, Int64(n))
            return
        }
        let strideB = sharedB ? 0 : k * n
        let work = m * n * k
        if batch >= Threads.count && work < 1 << 22 {
            // Many small products: one per thread, each single-threaded inside the region.
            parallelFor(batch, minChunk: 1) { begin, end in
                for i in begin..<end {
                    dk_gemm(ta, tb, Int64(m), Int64(n), Int64(k), 1, a + i * m * k, lda,
                             b + i * strideB, ldb, beta, c + i * m * n, Int64(n))
                }
            }
        } else {
            for i in 0..<batch {
                dk_gemm(ta, tb, Int64(m), Int64(n), Int64(k), 1, a + i * m * k, lda,
                         b + i * strideB, ldb, beta, c + i * m * n, Int64(n))
            }
        }
    }
}
