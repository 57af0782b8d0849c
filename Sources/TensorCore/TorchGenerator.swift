// PyTorch's CPU random generator (CPUGeneratorImpl: mt19937 + ATen's uniform/normal transforms), reproduced draw for draw.

import Foundation

/// A seeded generator that reproduces `torch.Generator("cpu").manual_seed(seed)` followed by
/// `torch.randn(shape)` / `torch.rand(shape)` in float32. `count` is the element count of the requested
/// tensor: PyTorch fills tensors of fewer than 16 elements one double-precision Box–Muller value at a time
/// (caching the second value of each pair in the generator) and larger ones in blocks of 16 with a
/// float Box–Muller, so the split must be made the same way to continue a stream identically.
public struct TorchGenerator {
    /// Everything that determines future draws; `Codable` so training checkpoints can save and restore it.
    public struct State: Codable, Equatable, Sendable {
        /// The seed given at creation (informational, like `torch.Generator.initial_seed()`).
        public var seed: UInt64
        /// The 624 mt19937 state words.
        public var words: [UInt32]
        /// Index of the next word to output.
        public var next: Int
        /// Outputs left before the next twist (1...624).
        public var left: Int
        /// The cached second value of the last double-precision Box–Muller pair, if unused.
        public var nextNormal: Double?
    }

    /// A restored state that cannot be a valid mt19937 state.
    public struct InvalidState: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { "invalid TorchGenerator state: \(reason)" }
    }

    private static let stateSize = 624
    private static let shift = 397
    private static let matrixA: UInt32 = 0x9908_b0df

    private var words: [UInt32]
    private var next = 0
    private var left = 1
    private var nextNormal: Double?
    public let seed: UInt64

    /// Seeds like `manual_seed(seed)`: mt19937 is initialised from the low 32 bits, as ATen's mt19937 does.
    public init(seed: UInt64) {
        self.seed = seed
        var words = [UInt32](repeating: 0, count: Self.stateSize)
        words[0] = UInt32(truncatingIfNeeded: seed)
        for index in 1..<Self.stateSize {
            let previous = words[index - 1]
            words[index] = 1_812_433_253 &* (previous ^ (previous >> 30)) &+ UInt32(index)
        }
        self.words = words
    }

    /// Restores a state saved from `state`.
    public init(state: State) throws {
        guard state.words.count == Self.stateSize else {
            throw InvalidState(reason: "expected \(Self.stateSize) words, found \(state.words.count)")
        }
        // Freshly seeded: next 0, left 1 (the first draw twists); afterwards next + left stays 625.
        let fresh = state.next == 0 && state.left == 1
        guard fresh || ((1...Self.stateSize).contains(state.left) && state.next >= 1 && state.next + state.left == Self.stateSize + 1) else {
            throw InvalidState(reason: "position next=\(state.next), left=\(state.left) is inconsistent")
        }
        if let normal = state.nextNormal, !normal.isFinite {
            throw InvalidState(reason: "cached normal value \(normal) is not finite")
        }
        seed = state.seed
        words = state.words
        next = state.next
        left = state.left
        nextNormal = state.nextNormal
    }

    /// The current state; `TorchGenerator(state:)` continues exactly where this generator is.
    public var state: State {
        State(seed: seed, words: words, next: next, left: left, nextNormal: nextNormal)
    }

    // MARK: Raw bits

    private mutating func twist() {
        let count = Self.stateSize, offset = Self.shift
        words.withUnsafeMutableBufferPointer { state in
            for index in 0..<count {
                let mixed = (state[index] & 0x8000_0000) | (state[(index + 1) % count] & 0x7fff_ffff)
                let twisted = (mixed >> 1) ^ ((state[(index + 1) % count] & 1) == 0 ? 0 : Self.matrixA)
                state[index] = state[(index + offset) % count] ^ twisted
            }
        }
        left = count
        next = 0
    }

    /// The next 32-bit output (`CPUGeneratorImpl::random()`).
    public mutating func random32() -> UInt32 {
        left -= 1
        if left == 0 { twist() }
        var value = words[next]
        next += 1
        value ^= value >> 11
        value ^= (value << 7) & 0x9d2c_5680
        value ^= (value << 15) & 0xefc6_0000
        value ^= value >> 18
        return value
    }

    /// The next 64-bit output (`CPUGeneratorImpl::random64()`): the first 32-bit draw is the high half.
    public mutating func random64() -> UInt64 {
        let high = UInt64(random32())
        let low = UInt64(random32())
        return high << 32 | low
    }

    // MARK: Distributions

    /// A float uniform on [0, 1) from 24 random bits (`uniform_real_distribution<float>`).
    @inline(__always)
    private mutating func uniformFloat() -> Float {
        Float(random32() & 0x00ff_ffff) * 0x1p-24
    }

    /// A double uniform on [0, 1) from 53 random bits (`uniform_real_distribution<double>`).
    @inline(__always)
    private mutating func uniformDouble() -> Double {
        Double(random64() & 0x001f_ffff_ffff_ffff) * 0x1p-53
    }

    /// `at::normal_distribution<double>`: Box–Muller in double, the sine half cached for the next call.
    private mutating func normalDouble() -> Double {
        if let cached = nextNormal {
            nextNormal = nil
            return cached
        }
        let u1 = uniformDouble()
        let u2 = uniformDouble()
        let radius = (-2.0 * log1p(-u2)).squareRoot()
        let theta = 2.0 * Double.pi * u1
        nextNormal = radius * sin(theta)
        return radius * cos(theta)
    }

    /// `torch.rand(count)` in float32.
    public mutating func rand(count: Int) -> [Float] {
        guard count > 0 else { return [] }
        var values = [Float](repeating: 0, count: count)
        for index in 0..<count { values[index] = uniformFloat() }
        return values
    }

    /// `torch.randn(shape)` in float32, where `count` is the product of `shape`.
    public mutating func randn(count: Int) -> [Float] {
        guard count > 0 else { return [] }
        if count < 16 {
            return (0..<count).map { _ in Float(normalDouble()) }
        }
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBufferPointer { buffer in
            guard let data = buffer.baseAddress else { return }
            for index in 0..<count { data[index] = uniformFloat() }
            var start = 0
            while start + 16 <= count {
                Self.boxMuller16(data + start)
                start += 16
            }
            if count % 16 != 0 {
                // PyTorch redraws 16 uniforms for the last 16 slots (overwriting finished values) and transforms them.
                let tail = data + (count - 16)
                for index in 0..<16 { tail[index] = uniformFloat() }
                Self.boxMuller16(tail)
            }
        }
        return values
    }

    /// Turns 16 uniforms into 16 normals: pairs (j, j + 8), cosine half first, all in float — PyTorch's
    /// `normal_fill_16_AVX2`, with its Cephes log and sincos reproduced operation for operation.
    @inline(__always)
    private static func boxMuller16(_ data: UnsafeMutablePointer<Float>) {
        let twoPi = Float(2.0 * Double.pi)
        for lane in 0..<8 {
            let u1 = 1 - data[lane]  // (0, 1] for the logarithm
            let u2 = data[lane + 8]
            let radius = (-2 * cephesLog(u1)).squareRoot()
            let (sine, cosine) = cephesSinCos(twoPi * u2)
            data[lane] = radius * cosine
            data[lane + 8] = radius * sine
        }
    }
}

// PyTorch's AVX2 normal kernel uses avx_mathfun.h (Cephes polynomials), built by GCC, which fuses each
// multiply into the add or subtract that consumes it. The functions below repeat those steps, fused
// multiply-adds included (`addingProduct`), so their results equal PyTorch's bit for bit (checked against
// every ≥16-element draw in fixtures/torch-randn).
extension TorchGenerator {
    /// Natural logarithm of a positive float (`log256_ps`).
    @inline(__always)
    static func cephesLog(_ input: Float) -> Float {
        guard input > 0 else { return input == 0 ? -.infinity : .nan }
        var x = max(input, Float(bitPattern: 0x0080_0000))  // smallest normal
        let exponent = Int32(bitPattern: x.bitPattern >> 23) - 0x7f
        x = Float(bitPattern: (x.bitPattern & ~0x7f80_0000) | Float(0.5).bitPattern)  // mantissa in [0.5, 1)
        var e = Float(exponent) + 1
        let belowHalfSqrt2 = x < 0.707106781186547524
        let adjustment: Float = belowHalfSqrt2 ? x : 0
        x = x - 1
        e = e - (belowHalfSqrt2 ? 1 : 0)
        x = x + adjustment
        let z = x * x
        var y: Float = 7.0376836292E-2
        y = (-1.1514610310E-1 as Float).addingProduct(y, x)
        y = (1.1676998740E-1 as Float).addingProduct(y, x)
        y = (-1.2420140846E-1 as Float).addingProduct(y, x)
        y = (1.4249322787E-1 as Float).addingProduct(y, x)
        y = (-1.6668057665E-1 as Float).addingProduct(y, x)
        y = (2.0000714765E-1 as Float).addingProduct(y, x)
        y = (-2.4999993993E-1 as Float).addingProduct(y, x)
        y = (3.3333331174E-1 as Float).addingProduct(y, x)
        y = y * x
        y = (e * -2.12194440e-4).addingProduct(y, z)
        y = y.addingProduct(z, -0.5)
        x = x + y
        return x.addingProduct(e, 0.693359375)
    }

    /// Sine and cosine of a float (`sincos256_ps`): octant reduction by π/4 in three parts, then polynomials.
    @inline(__always)
    static func cephesSinCos(_ input: Float) -> (sin: Float, cos: Float) {
        var sinSign = input.bitPattern & 0x8000_0000
        var x = abs(input)
        // Octant index rounded up to even (truncating conversion, as _mm256_cvttps_epi32; inputs here are < 2π).
        var octant = Int32(x * 1.27323954473516)
        octant = (octant &+ 1) & ~1
        let y = Float(octant)
        sinSign ^= UInt32(bitPattern: (octant & 4) << 29)
        let cosSign = UInt32(bitPattern: (~(octant &- 2) & 4) << 29)
        let sineFirst = (octant & 2) == 0
        x = x.addingProduct(y, -0.78515625)
        x = x.addingProduct(y, -2.4187564849853515625e-4)
        x = x.addingProduct(y, -3.77489497744594108e-8)
        let z = x * x
        var cosine: Float = 2.443315711809948E-005
        cosine = (-1.388731625493765E-003 as Float).addingProduct(cosine, z)
        cosine = (4.166664568298827E-002 as Float).addingProduct(cosine, z)
        cosine = cosine * z
        cosine = (-(z * 0.5)).addingProduct(cosine, z)
        cosine = cosine + 1
        var sine: Float = -1.9515295891E-4
        sine = (8.3321608736E-3 as Float).addingProduct(sine, z)
        sine = (-1.6666654611E-1 as Float).addingProduct(sine, z)
        sine = sine * z
        sine = x.addingProduct(sine, x)
        let sinValue = sineFirst ? sine : cosine
        let cosValue = sineFirst ? cosine : sine
        return (Float(bitPattern: sinValue.bitPattern ^ sinSign), Float(bitPattern: cosValue.bitPattern ^ cosSign))
    }
}
