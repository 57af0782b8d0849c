// Kernel throughput: GFLOP/s for sgemm, convolution and attention; GB/s for memory-bound kernels.
import CKernels
import Foundation
import TensorCore

enum KernelBenchmarks {
    /// A 64-byte aligned float buffer filled with values in [-0.5, 0.5).
    final class Buffer {
        let pointer: UnsafeMutablePointer<Float>
        let count: Int
        init(_ count: Int, seed: UInt64 = 1) {
            guard let p = dk_alloc_floats(Int64(count)) else {
                FileHandle.standardError.write("diffuse-bench: cannot allocate \(count) floats\n".data(using: .utf8)!)
                exit(1)
            }
            pointer = p
            self.count = count
            var state = seed &* 0x9E3779B97F4A7C15
            for i in 0..<count {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                p[i] = Float(state >> 40) / Float(1 << 24) - 0.5
            }
        }
        deinit { dk_free(pointer) }
        var p: UnsafeMutablePointer<Float> { pointer }
    }

    /// Median seconds of `runs` timed calls after one untimed warm-up (which also fills caches).
    static func median(runs: Int = 5, _ body: () -> Int32) -> Double {
        var times: [Double] = []
        if body() != 0 { report(error: "kernel returned an error") }
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            let rc = body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
            if rc != 0 { report(error: "kernel returned error \(rc)") }
        }
        return times.sorted()[runs / 2]
    }

    static func report(error: String) {
        FileHandle.standardError.write("diffuse-bench: \(error)\n".data(using: .utf8)!)
        exit(1)
    }

    static func emit(_ name: String, gflops: Double) {
        print("{\"name\": \"\(name)\", \"gflops\": \(String(format: "%.1f", gflops)), \"precision\": \"\(ComputePrecision.mode.name)\"}")
        fflush(stdout)
    }

    static func emit(_ name: String, gbps: Double) {
        print("{\"name\": \"\(name)\", \"gbps\": \(String(format: "%.1f", gbps))}")
        fflush(stdout)
    }

    static func run(options: Set<String>) {
        sgemm()
        copy()
        let convModes: [(String, Int32)] = options.contains("--conv-modes")
            ? [("", Int32(DK_CONV_AUTO)), ("_plain", Int32(DK_CONV_PLAIN)), ("_blocked", Int32(DK_CONV_BLOCKED)),
               ("_winograd", Int32(DK_CONV_WINOGRAD)), ("_winograd_bf16", Int32(DK_CONV_WINOGRAD_BF16))]
            : [("", Int32(DK_CONV_AUTO))]
        // Small bench U-Net shapes (batch 16) and SD 1.5 shapes at 512x512 with CFG (batch 2).
        for (batch, channels, size) in [(16, 64, 16), (16, 128, 8), (16, 256, 4), (2, 320, 64), (2, 640, 32), (2, 1280, 16), (2, 1280, 8)] {
            for (suffix, mode) in convModes {
                dk_conv_set_mode(mode)
                conv3x3(batch: batch, channels: channels, size: size, suffix: suffix)
            }
            dk_conv_set_mode(Int32(DK_CONV_AUTO))
            dk_conv_clear_cache()
        }
        attention(batchHeads: 16, length: 256, dim: 64)
        attention(batchHeads: 8, length: 4096, dim: 40)
        attention(batchHeads: 128, length: 256, dim: 8)  // the bench U-Net's first level: batch 16, 8 heads
        normsAndPointwise()
    }

    static func sgemm() {
        let n = 1024
        let a = Buffer(n * n, seed: 1), b = Buffer(n * n, seed: 2), c = Buffer(n * n, seed: 3)
        let t = median(runs: 7) {
            dk_sgemm(0, 0, Int64(n), Int64(n), Int64(n), 1, a.p, Int64(n), b.p, Int64(n), 0, c.p, Int64(n))
        }
        emit("sgemm", gflops: 2 * Double(n * n * n) / t * 1e-9)
    }

    static func copy() {
        let n = 32 << 20
        let a = Buffer(n, seed: 1), b = Buffer(n, seed: 2)
        let t = median { dk_copy(a.p, b.p, Int64(n)) }
        emit("copy", gbps: Double(2 * 4 * n) / t * 1e-9)
    }

    static func conv3x3(batch: Int, channels: Int, size: Int, suffix: String) {
        let (N, C, H) = (Int64(batch), Int64(channels), Int64(size))
        let x = Buffer(batch * channels * size * size, seed: 1), y = Buffer(x.count, seed: 2)
        let dx = Buffer(x.count, seed: 3), w = Buffer(channels * channels * 9, seed: 4)
        let dw = Buffer(w.count, seed: 5), b = Buffer(channels, seed: 6), db = Buffer(channels, seed: 7)
        let flops = 2 * Double(batch * channels * channels * 9 * size * size)
        let tag = "c\(channels)_\(size)x\(size)_b\(batch)\(suffix)"
        let fwd = median { dk_conv2d_forward(x.p, w.p, b.p, y.p, N, C, H, H, C, 3, 3, 1, 1, H, H) }
        emit("conv3x3_fwd_\(tag)", gflops: flops / fwd * 1e-9)
        let data = median { dk_conv2d_backward_data(y.p, w.p, dx.p, N, C, H, H, C, 3, 3, 1, 1, H, H) }
        emit("conv3x3_bwd_data_\(tag)", gflops: flops / data * 1e-9)
        let weight = median { dk_conv2d_backward_weights(x.p, y.p, dw.p, db.p, N, C, H, H, C, 3, 3, 1, 1, H, H) }
        emit("conv3x3_bwd_weight_\(tag)", gflops: flops / weight * 1e-9)
    }

    static func attention(batchHeads: Int, length: Int, dim: Int) {
        let (B, L, D) = (Int64(batchHeads), Int64(length), Int64(dim))
        let n = batchHeads * length * dim
        let q = Buffer(n, seed: 1), k = Buffer(n, seed: 2), v = Buffer(n, seed: 3), out = Buffer(n, seed: 4)
        let dout = Buffer(n, seed: 5), dq = Buffer(n, seed: 6), dk = Buffer(n, seed: 7), dv = Buffer(n, seed: 8)
        let lse = Buffer(batchHeads * length, seed: 9)
        let scale = 1 / Float(dim).squareRoot()
        let matmul = 2 * Double(batchHeads) * Double(length) * Double(length) * Double(dim)  // one L x L x D product
        let tag = "bh\(batchHeads)_l\(length)_d\(dim)"
        let runs = length >= 4096 ? 3 : 5
        let fwd = median(runs: runs) { dk_attention_forward(q.p, k.p, v.p, out.p, B, L, L, D, D, scale, 0, lse.p) }
        emit("attention_fwd_\(tag)", gflops: 2 * matmul / fwd * 1e-9)
        let bwd = median(runs: runs) {
            dk_attention_backward(q.p, k.p, v.p, out.p, dout.p, lse.p, dq.p, dk.p, dv.p, B, L, L, D, D, scale, 0)
        }
        emit("attention_bwd_\(tag)", gflops: 5 * matmul / bwd * 1e-9)
    }

    static func normsAndPointwise() {
        // Group norm + SiLU on an SD 64x64 feature map: x [2, 320, 4096], 32 groups.
        let (N, C, HW, G) = (2, 320, 4096, 32)
        let x = Buffer(N * C * HW, seed: 1), y = Buffer(x.count, seed: 2), dy = Buffer(x.count, seed: 3)
        let dx = Buffer(x.count, seed: 4), gamma = Buffer(C, seed: 5), beta = Buffer(C, seed: 6)
        let dg = Buffer(C, seed: 7), db = Buffer(C, seed: 8)
        let mean = Buffer(N * G, seed: 9), rstd = Buffer(N * G, seed: 10)
        let bytes = Double(4 * x.count)
        var t = median {
            dk_group_norm_forward(x.p, gamma.p, beta.p, y.p, mean.p, rstd.p, Int64(N), Int64(C), Int64(HW), Int64(G), 1e-5, 1)
        }
        emit("group_norm_silu_fwd_c320_64x64_b2", gbps: 2 * bytes / t * 1e-9)
        t = median {
            dk_group_norm_backward(dy.p, x.p, gamma.p, beta.p, mean.p, rstd.p, dx.p, dg.p, db.p, Int64(N), Int64(C),
                                   Int64(HW), Int64(G), 1)
        }
        emit("group_norm_silu_bwd_c320_64x64_b2", gbps: 3 * bytes / t * 1e-9)

        // Layer norm over 320 features for 2 x 4096 tokens (same buffers, viewed as [8192, 320]).
        let rows = Int64(N * HW), D = Int64(C)
        let lnMean = Buffer(N * HW, seed: 11), lnRstd = Buffer(N * HW, seed: 12)
        t = median { dk_layer_norm_forward(x.p, gamma.p, beta.p, y.p, lnMean.p, lnRstd.p, rows, D, 1e-5) }
        emit("layer_norm_fwd_8192x320", gbps: 2 * bytes / t * 1e-9)
        t = median { dk_layer_norm_backward(dy.p, x.p, gamma.p, lnMean.p, lnRstd.p, dx.p, dg.p, db.p, rows, D) }
        emit("layer_norm_bwd_8192x320", gbps: 3 * bytes / t * 1e-9)

        // Softmax over 4096-long rows (one head's 4096 x 4096 score matrix).
        let srows = 4096, scols = 4096
        let s = Buffer(srows * scols, seed: 13), p = Buffer(s.count, seed: 14), ds = Buffer(s.count, seed: 15)
        let sbytes = Double(4 * s.count)
        t = median { dk_softmax_forward(s.p, p.p, Int64(srows), Int64(scols)) }
        emit("softmax_fwd_4096x4096", gbps: 2 * sbytes / t * 1e-9)
        t = median { dk_softmax_backward(p.p, ds.p, s.p, Int64(srows), Int64(scols)) }
        emit("softmax_bwd_4096x4096", gbps: 3 * sbytes / t * 1e-9)

        // Activations over the 2 x 4096 x 1280 feed-forward hidden state of SD's 64x64 blocks.
        let an = 2 * 4096 * 1280
        let a = Buffer(an, seed: 16), b = Buffer(an, seed: 17), g = Buffer(an, seed: 18)
        for (kind, name) in [(DK_ACT_SILU, "silu"), (DK_ACT_GELU_ERF, "gelu"), (DK_ACT_GELU_TANH, "gelu_tanh"),
                             (DK_ACT_QUICK_GELU, "quick_gelu")] {
            t = median { dk_activation_forward(Int32(kind), a.p, b.p, Int64(an)) }
            emit("\(name)_fwd_10M", gbps: Double(2 * 4 * an) / t * 1e-9)
            t = median { dk_activation_backward(Int32(kind), a.p, g.p, b.p, Int64(an)) }
            emit("\(name)_bwd_10M", gbps: Double(3 * 4 * an) / t * 1e-9)
        }
    }
}
