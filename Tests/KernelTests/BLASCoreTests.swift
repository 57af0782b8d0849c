// OpenBLAS runs kernels that match the CPU, and its sgemm agrees with a double-precision product.
import CKernels
import Foundation
import XCTest

final class BLASCoreTests: XCTestCase {
    /// The CPU's feature flags, as the kernel reports them.
    func cpuFlags() throws -> Set<Substring> {
        let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let line = try XCTUnwrap(info.split(separator: "\n").first { $0.hasPrefix("flags") }, "no flags in /proc/cpuinfo")
        return Set(line.split(separator: " "))
    }

    func testKernelsMatchTheCPU() throws {
        let core = String(cString: dk_blas_core())
        let flags = try cpuFlags()
        let generic: Set<String> = ["unknown", "prescott", "core2", "penryn", "dunnington", "nehalem", "atom"]
        if flags.contains("avx2") && flags.contains("fma") {
            XCTAssertFalse(generic.contains(core.lowercased()), "OpenBLAS runs its generic \(core) kernels on an AVX2 CPU")
        }
    }

    func testSgemmAgreesWithDoubleProduct() {
        let M = 67, N = 45, K = 129
        var rng = TestRandom(seed: 5)
        let a = rng.floats(M * K), b = rng.floats(K * N)
        var c = [Float](repeating: 0, count: M * N)
        XCTAssertEqual(dk_sgemm(0, 0, Int64(M), Int64(N), Int64(K), 1, a, Int64(K), b, Int64(N), 0, &c, Int64(N)), 0)
        var expected = [Double](repeating: 0, count: M * N)
        for i in 0..<M { for k in 0..<K { for j in 0..<N {
            expected[i * N + j] += Double(a[i * K + k]) * Double(b[k * N + j])
        } } }
        XCTAssertLessThan(relativeError(c, expected), 1e-5)
    }
}
