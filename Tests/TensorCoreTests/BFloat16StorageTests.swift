// Weights stored as bf16 (bf16 inference): the stored values are float32 rounded to bf16, and
// every product that takes such a weight, on every convolution path and in every precision, gives
// exactly what it gives on the same weight rounded but kept in float32 (bf16 values are exact in
// float32, and each path either reads the bits as they are or expands them exactly).
import CKernels
import Foundation
import TestSupport
import XCTest
@testable import TensorCore

final class BFloat16StorageTests: XCTestCase {
    override func tearDown() {
        XCTAssertNoThrow(try ComputePrecision.use(.float32))
        dk_conv_set_mode(Int32(DK_CONV_AUTO))
        super.tearDown()
    }

    /// The precisions this CPU runs: float32 and emulated bf16 everywhere, native bf16 where it can.
    var modes: [(precision: ComputePrecision, emulate: Bool)] {
        [(.float32, false), (.bfloat16, true)] + (ComputePrecision.nativeBFloat16 ? [(.bfloat16, false)] : [])
    }

    /// Float32 values rounded to bf16 by the Swift converter, independent of the C kernels.
    func rounded(_ t: Tensor) -> Tensor {
        let values = t.values.map { Float16Conversion.float(fromBFloat16Bits: Float16Conversion.bfloat16Bits(from: $0)) }
        return try! Tensor(shape: t.shape, values: values)  // test-only: the shape is t's own
    }

    func assertIdentical(_ a: Tensor, _ b: Tensor, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, message, file: file, line: line)
        XCTAssertEqual(maxAbsDifference(a.values, b.values), 0, message, file: file, line: line)
    }

    func testStoredValuesAreRoundedAndHalfTheBytes() {
        var values = testTensor([3000], seed: 1, scale: 100).values
        values += [0, -0, 1 + 1.0 / 256, 1 + 3.0 / 256, .greatestFiniteMagnitude, .infinity, -.infinity, 1e-40]
        let t = try! Tensor(shape: [values.count], values: values)
        let stored = t.storedInBFloat16()
        XCTAssertTrue(stored.isBFloat16)
        XCTAssertFalse(t.isBFloat16)
        XCTAssertEqual(stored.float32Values().values, rounded(t).values, "stored bf16 values")
        XCTAssertEqual(stored.values, rounded(t).values, "values reads bf16 storage")
        XCTAssertEqual(stored.copy().values, rounded(t).values, "a copy keeps the bf16 values")
        XCTAssertTrue(stored.copy().isBFloat16)
        XCTAssertEqual(stored.reshaped([1, values.count]).storage.bfloat16Pointer, stored.storage.bfloat16Pointer,
                       "a reshape shares bf16 storage")
    }

    func testLinearOnStoredWeightsEqualsLinearOnRoundedWeights() throws {
        let x = testTensor([37, 70], seed: 2), w = testTensor([50, 70], seed: 3, scale: 0.2), b = testTensor([50], seed: 4)
        let wide = testTensor([300, 64], seed: 5), wideWeight = testTensor([96, 64], seed: 6, scale: 0.2)
        let (stored, storedWide) = (w.storedInBFloat16(), wideWeight.storedInBFloat16())
        for mode in modes {
            let chosen = try ComputePrecision.use(mode.precision, emulate: mode.emulate)
            assertIdentical(Tensor.linear(x, weight: stored, bias: b), Tensor.linear(x, weight: rounded(w), bias: b),
                            "linear, \(chosen.name)")
            assertIdentical(Tensor.linear(wide, weight: storedWide, bias: nil),
                            Tensor.linear(wide, weight: rounded(wideWeight), bias: nil), "linear without bias, \(chosen.name)")
            // The input's gradient flows through a stored weight (which itself takes none).
            let (xs, xr) = (x.requiringGrad(), x.requiringGrad())
            Tensor.linear(xs, weight: stored, bias: b).sum().backward()
            Tensor.linear(xr, weight: rounded(w), bias: b).sum().backward()
            assertIdentical(try XCTUnwrap(xs.grad), try XCTUnwrap(xr.grad), "linear input gradient, \(chosen.name)")
        }
    }

    /// Every convolution path: oneDNN plain and blocked, the 1x1 sgemm, Winograd (its sliced
    /// form too: 1024 output channels over 512 inputs are three slices), and the automatic choice,
    /// alone and inside a frozen-weights scope, where the converted copies are kept and reused.
    func testConvolutionOnStoredWeightsEqualsConvolutionOnRoundedWeights() throws {
        let cases: [(x: [Int], w: [Int], stride: Int, padding: Int, modes: [Int32])] = [
            ([2, 24, 9, 9], [32, 24, 3, 3], 1, 1, [DK_CONV_AUTO, DK_CONV_PLAIN, DK_CONV_BLOCKED, DK_CONV_WINOGRAD].map { Int32($0) }),
            ([2, 24, 9, 9], [40, 24, 1, 1], 1, 0, [DK_CONV_AUTO, DK_CONV_GEMM_1X1, DK_CONV_BLOCKED].map { Int32($0) }),
            ([1, 16, 10, 10], [24, 16, 3, 3], 2, 1, [Int32(DK_CONV_AUTO)]),
            ([1, 512, 8, 8], [1024, 512, 3, 3], 1, 1, [Int32(DK_CONV_WINOGRAD)]),
        ]
        for (index, c) in cases.enumerated() {
            let x = testTensor(c.x, seed: UInt64(10 + index)), w = testTensor(c.w, seed: UInt64(20 + index), scale: 0.1)
            let b = testTensor([c.w[0]], seed: UInt64(30 + index))
            let stored = w.storedInBFloat16(), expectedWeight = rounded(w)
            for mode in modes {
                let chosen = try ComputePrecision.use(mode.precision, emulate: mode.emulate)
                for path in c.modes {
                    dk_conv_set_mode(path)
                    let expected = Tensor.conv2d(x, expectedWeight, bias: b, stride: c.stride, padding: c.padding)
                    let what = "conv \(c.w) path \(path), \(chosen.name)"
                    assertIdentical(Tensor.conv2d(x, stored, bias: b, stride: c.stride, padding: c.padding), expected, what)
                    FrozenWeights.during {
                        for call in 0..<2 {
                            assertIdentical(Tensor.conv2d(x, stored, bias: b, stride: c.stride, padding: c.padding), expected,
                                            "\(what), frozen call \(call)")
                        }
                    }
                }
                dk_conv_set_mode(Int32(DK_CONV_AUTO))
            }
        }
    }

    func testConvolutionInputGradientThroughStoredWeights() throws {
        let x = testTensor([2, 8, 6, 6], seed: 40), w = testTensor([12, 8, 3, 3], seed: 41, scale: 0.2)
        let (xs, xr) = (x.requiringGrad(), x.requiringGrad())
        Tensor.conv2d(xs, w.storedInBFloat16(), bias: nil, padding: 1).sum().backward()
        Tensor.conv2d(xr, rounded(w), bias: nil, padding: 1).sum().backward()
        assertIdentical(try XCTUnwrap(xs.grad), try XCTUnwrap(xr.grad), "conv input gradient")
    }
}
