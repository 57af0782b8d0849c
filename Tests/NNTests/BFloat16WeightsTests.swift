// A module's weights stored in bf16 for bf16 inference: which parameters change, what it frees,
// the outputs it gives, and values assigned afterwards.
import Foundation
import NN
import TensorCore
import TestSupport
import XCTest

final class BFloat16WeightsTests: XCTestCase {
    final class Block: Module {
        let proj: Linear, conv: Conv2d, norm: LayerNorm
        init() {
            var initializer = Initializer(seed: 7)
            proj = Linear(12, 20, initializer: &initializer)
            conv = Conv2d(3, 8, kernelSize: 3, padding: 1, initializer: &initializer)
            norm = LayerNorm(20)
        }
        var children: [(String, Module)] { [("proj", proj), ("conv", conv), ("norm", norm)] }
    }

    func bf16(_ value: Float) -> Float {
        Float16Conversion.float(fromBFloat16Bits: Float16Conversion.bfloat16Bits(from: value))
    }

    func testOnlyLinearAndConvolutionWeightsAreStoredInBFloat16() throws {
        let block = Block()
        let x = testTensor([5, 12], seed: 1), image = testTensor([2, 3, 6, 6], seed: 2)
        let roundedProj = try Tensor(shape: block.proj.weight.shape, values: block.proj.weight.value.values.map(bf16))
        let roundedConv = try Tensor(shape: block.conv.weight.shape, values: block.conv.weight.value.values.map(bf16))
        let expectedLinear = Tensor.linear(x, weight: roundedProj, bias: block.proj.bias?.value)
        let expectedConv = Tensor.conv2d(image, roundedConv, bias: block.conv.bias?.value, padding: 1)

        XCTAssertEqual(block.storeWeightsInBFloat16(), 2 * (12 * 20 + 8 * 3 * 9), "bytes freed: two per weight value")
        XCTAssertTrue(block.proj.weight.value.isBFloat16)
        XCTAssertTrue(block.conv.weight.value.isBFloat16)
        for (key, parameter) in block.namedParameters() where !key.hasSuffix("proj.weight") && !key.hasSuffix("conv.weight") {
            XCTAssertFalse(parameter.value.isBFloat16, "\(key) stays float32")
        }
        XCTAssertEqual(block.storeWeightsInBFloat16(), 0, "a second call frees nothing")
        XCTAssertEqual(block.parameterCount, 12 * 20 + 20 + 8 * 3 * 9 + 8 + 2 * 20)
        XCTAssertEqual(maxAbsDifference(block.proj(x).values, expectedLinear.values), 0)
        XCTAssertEqual(maxAbsDifference(block.conv(image).values, expectedConv.values), 0)
    }

    func testAssigningToAStoredWeightRoundsTheValues() throws {
        let block = Block()
        block.storeWeightsInBFloat16()
        let values = testTensor(block.proj.weight.shape, seed: 3)
        try block.proj.weight.assign(values)
        XCTAssertTrue(block.proj.weight.value.isBFloat16)
        XCTAssertEqual(block.proj.weight.value.values, values.values.map(bf16))
        XCTAssertThrowsError(try block.proj.weight.assign(testTensor([20, 11], seed: 4)), "the shape is still checked")
    }

    func testLayersBuiltForBFloat16StoreTheirWeightsSoFromTheStart() throws {
        XCTAssertFalse(WeightStorage.bfloat16)
        let (block, reference) = (WeightStorage.building(inBFloat16: true) { Block() }, Block())
        XCTAssertFalse(WeightStorage.bfloat16, "the scope ends with its body")
        XCTAssertFalse(reference.proj.weight.value.isBFloat16, "layers built outside keep float32")
        for (key, parameter) in block.namedParameters() {
            let isWeight = key == "proj.weight" || key == "conv.weight"
            XCTAssertEqual(parameter.value.isBFloat16, isWeight, key)
            XCTAssertEqual(parameter.value.requiresGrad, !isWeight, "\(key): bf16 weights take no gradients")
        }
        // The same seed, rounded: what storing the float32 layer's weights afterwards gives.
        reference.storeWeightsInBFloat16()
        XCTAssertEqual(block.proj.weight.value.values, reference.proj.weight.value.values)
        XCTAssertEqual(block.conv.weight.value.values, reference.conv.weight.value.values)
        WeightStorage.building(inBFloat16: true) {
            WeightStorage.building(inBFloat16: false) { XCTAssertFalse(Block().proj.weight.value.isBFloat16, "scopes nest") }
            XCTAssertTrue(WeightStorage.bfloat16, "and restore the outer setting")
        }
    }
}
