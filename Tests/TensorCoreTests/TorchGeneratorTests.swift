// Tests for TorchGenerator: bit-exact against PyTorch's own draws (fixtures/torch-randn), and state save/restore.

import Foundation
import TestSupport
import XCTest
@testable import TensorCore

final class TorchGeneratorTests: XCTestCase {

    private struct Case {
        let seed: UInt64
        let shape: [Int]
        let first: String
        let second: String
    }

    private func loadCases() throws -> (cases: [Case], uniforms: [(seed: UInt64, key: String)], file: SafetensorsFile) {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: SharedData.url("fixtures/torch-randn/randn.json")))
        guard let root = json as? [String: Any], let entries = root["cases"] as? [[String: Any]] else {
            throw SafetensorsError(path: "randn.json", reason: "unexpected layout")
        }
        var cases: [Case] = [], uniforms: [(UInt64, String)] = []
        for entry in entries {
            guard let seed = (entry["seed"] as? NSNumber)?.uint64Value else { continue }
            if let key = entry["uniform"] as? String {
                uniforms.append((seed, key))
            } else if let shape = entry["shape"] as? [Int], let first = entry["first"] as? String, let second = entry["second"] as? String {
                cases.append(Case(seed: seed, shape: shape, first: first, second: second))
            }
        }
        let file = try SafetensorsFile(contentsOf: SharedData.url("fixtures/torch-randn/randn.safetensors"))
        return (cases, uniforms, file)
    }

    /// Draws must equal PyTorch's bit for bit; on failure, report how many differ and by how much.
    private func assertBitExact(_ values: [Float], _ reference: [Float], _ label: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(values.count, reference.count, label, file: file, line: line)
        var differing = 0, worst: Float = 0
        for (value, expected) in zip(values, reference) where value.bitPattern != expected.bitPattern {
            differing += 1
            worst = max(worst, abs(value - expected) / max(1, abs(expected)))
        }
        XCTAssertEqual(differing, 0, "\(label): \(differing) values differ, worst scaled error \(worst)", file: file, line: line)
    }

    func testRandnMatchesPyTorch() throws {
        let (cases, _, file) = try loadCases()
        XCTAssertEqual(cases.count, 40)  // 5 seeds × 8 shapes
        XCTAssertEqual(Set(cases.map(\.seed)), [0, 1, 42, 1234, (1 << 32) + 5])
        for testCase in cases {
            let count = testCase.shape.reduce(1, *)
            XCTAssertEqual(try file.shape(testCase.first), testCase.shape)
            var generator = TorchGenerator(seed: testCase.seed)
            let first = generator.randn(count: count)
            let second = generator.randn(count: count)
            assertBitExact(first, try file.floats(testCase.first), testCase.first)
            assertBitExact(second, try file.floats(testCase.second), testCase.second)
        }
    }

    /// The Cephes log and sincos that reproduce PyTorch's AVX2 kernel are accurate to a few float ulps.
    func testCephesFunctionsAgreeWithLibm() {
        var worstLog: Double = 0, worstTrig: Double = 0
        for step in 1...100_000 {
            let u = Float(step) * 0x1p-17 * 0.7629  // (0, 1]
            let log = Double(TorchGenerator.cephesLog(u)), exact = Foundation.log(Double(u))
            worstLog = max(worstLog, abs(log - exact) / max(abs(exact), 1e-30) )
            let theta = Float(step) * Float(2 * Double.pi) / 100_000
            let (sine, cosine) = TorchGenerator.cephesSinCos(theta)
            worstTrig = max(worstTrig, abs(Double(sine) - sin(Double(theta))), abs(Double(cosine) - cos(Double(theta))))
        }
        XCTAssertLessThan(worstLog, 4e-7)   // relative
        XCTAssertLessThan(worstTrig, 2e-7)  // absolute, values in [-1, 1]
        XCTAssertEqual(TorchGenerator.cephesLog(1), 0)
        XCTAssertEqual(TorchGenerator.cephesSinCos(0).sin, 0)
        XCTAssertEqual(TorchGenerator.cephesSinCos(0).cos, 1)
    }

    func testRandMatchesPyTorchExactly() throws {
        let (_, uniforms, file) = try loadCases()
        XCTAssertEqual(uniforms.count, 5)
        for (seed, key) in uniforms {
            var generator = TorchGenerator(seed: seed)
            let values = generator.rand(count: 1000)
            XCTAssertEqual(values, try file.floats(key), key)
            XCTAssertTrue(values.allSatisfy { (0..<1).contains($0) })
        }
    }

    /// The seeded pipeline's initial latents are the generator's first randn draw of [1, 4, 32, 32].
    func testPipelineInitialLatents() throws {
        let file = try SafetensorsFile(contentsOf: SharedData.url("fixtures/torch-randn/pipeline_seed0.safetensors"))
        XCTAssertEqual(file.metadata["seed"], "0")
        var generator = TorchGenerator(seed: 0)
        assertBitExact(generator.randn(count: 1 * 4 * 32 * 32), try file.floats("initial_latents"), "initial_latents")
    }

    /// mt19937 reference: the 10000th output of std::mt19937 with the default seed 5489 is 4123659995 (C++ standard).
    func testMersenneTwisterMatchesStandard() {
        var generator = TorchGenerator(seed: 5489)
        var value: UInt32 = 0
        for _ in 0..<10000 { value = generator.random32() }
        XCTAssertEqual(value, 4_123_659_995)
    }

    func testStateRestoreContinuesIdentically() throws {
        // Leave a cached Box–Muller value and a mid-buffer position behind, then save.
        var generator = TorchGenerator(seed: 42)
        _ = generator.randn(count: 7)
        _ = generator.rand(count: 700)
        let saved = generator.state
        XCTAssertNotNil(saved.nextNormal)

        let encoded = try JSONEncoder().encode(saved)
        var restored = try TorchGenerator(state: JSONDecoder().decode(TorchGenerator.State.self, from: encoded))
        XCTAssertEqual(restored.state, saved)
        for count in [3, 16, 17, 1000, 5] {
            XCTAssertEqual(restored.randn(count: count), generator.randn(count: count), "randn(\(count))")
        }
        XCTAssertEqual(restored.rand(count: 50), generator.rand(count: 50))
        XCTAssertEqual(restored.state, generator.state)

        // A freshly seeded generator's state restores too.
        var fresh = TorchGenerator(seed: 1234)
        var freshCopy = try TorchGenerator(state: fresh.state)
        XCTAssertEqual(freshCopy.randn(count: 20), fresh.randn(count: 20))

        var broken = saved
        broken.words.removeLast()
        XCTAssertThrowsError(try TorchGenerator(state: broken))
        broken = saved
        broken.left = 0
        XCTAssertThrowsError(try TorchGenerator(state: broken))
        broken = saved
        broken.next = 700
        XCTAssertThrowsError(try TorchGenerator(state: broken))
    }

    /// Tensors of ≥16 elements neither use nor clear the cached double normal, as in PyTorch.
    func testLargeDrawsKeepTheCachedNormal() {
        var interleaved = TorchGenerator(seed: 1)
        var plain = TorchGenerator(seed: 1)
        _ = interleaved.randn(count: 1)  // caches the pair's second value
        _ = plain.randn(count: 1)
        let cached = interleaved.state.nextNormal
        XCTAssertNotNil(cached)
        _ = interleaved.randn(count: 32)
        XCTAssertEqual(interleaved.state.nextNormal, cached)
        // The next small draw returns the cached value without consuming bits.
        XCTAssertEqual(interleaved.randn(count: 1), [Float(cached ?? .nan)])
        XCTAssertEqual(plain.randn(count: 1), [Float(cached ?? .nan)])
        XCTAssertEqual(interleaved.rand(count: 1), Array(plain.rand(count: 33).suffix(1)))  // 32 uniforms consumed by the large draw
    }
}
