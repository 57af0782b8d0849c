// A small load test: several concurrent clients, a few dozen requests, nothing lost, memory flat.
// Prints latency and memory figures; asserts only completeness and a loose bound on growth.
import Foundation
import XCTest

final class LoadTests: ServerTestCase {
    func round(clients: Int, requestsEach: Int) throws -> (latencies: [Double], failures: [String], images: Int) {
        let lock = NSLock()
        var latencies: [Double] = [], failures: [String] = [], images = 0
        let port = server.port
        DispatchQueue.concurrentPerform(iterations: clients) { clientIndex in
            let client = HTTPClient(port: port)
            for r in 0..<requestsEach {
                let start = Date()
                do {
                    let seed = clientIndex * 100 + r
                    let count: Int
                    switch r % 3 {
                    case 0:
                        let json = try client.post("/sdapi/v1/txt2img", json: ["prompt": "red apple", "seed": seed, "steps": 4]).json()
                        count = (json["images"] as? [String])?.count ?? 0
                    case 1:
                        let json = try client.post("/v1/images/generations", json: ["prompt": "dog face", "seed": seed, "steps": 4]).json()
                        count = (json["data"] as? [[String: Any]])?.count ?? 0
                    default:
                        let json = try client.post("/sdapi/v1/txt2img", json: ["prompt": "thumbs up", "seed": seed, "steps": 3,
                                                                                 "batch_size": 2]).json()
                        count = (json["images"] as? [String])?.count == 2 ? 1 : 0
                    }
                    _ = try client.get("/sdapi/v1/progress")
                    lock.lock()
                    latencies.append(Date().timeIntervalSince(start))
                    if count >= 1 { images += 1 } else { failures.append("client \(clientIndex) request \(r): no image") }
                    lock.unlock()
                } catch {
                    lock.lock()
                    failures.append("client \(clientIndex) request \(r): \(error)")
                    lock.unlock()
                }
            }
        }
        return (latencies, failures, images)
    }

    func testConcurrentClientsLoseNothingAndMemoryStaysFlat() throws {
        _ = try round(clients: 2, requestsEach: 2)  // warm up allocator pools and kernels
        let startMemory = server.residentBytes
        let clients = 4, each = 6
        let started = Date()
        let first = try round(clients: clients, requestsEach: each)
        let firstSeconds = Date().timeIntervalSince(started)
        let middleMemory = server.residentBytes
        let second = try round(clients: clients, requestsEach: each)
        let endMemory = server.residentBytes
        XCTAssertEqual(first.failures + second.failures, [])
        XCTAssertEqual(first.images + second.images, 2 * clients * each, "every request got its image")
        let sorted = (first.latencies + second.latencies).sorted()
        func ms(_ s: Double) -> String { String(format: "%.0f ms", s * 1000) }
        let mib = { (b: Int) in String(format: "%.1f MiB", Double(b) / 1_048_576) }
        print("""
            load test: \(clients) clients × \(each) requests, twice (\(2 * clients * each) requests, 4 or 3 steps each, \
            some of 2 images): first round \(String(format: "%.1f", firstSeconds)) s, \
            latency p50 \(ms(sorted[sorted.count / 2])), p90 \(ms(sorted[sorted.count * 9 / 10])), max \(ms(sorted.last ?? 0)); \
            server RSS \(mib(startMemory)) → \(mib(middleMemory)) → \(mib(endMemory))
            """)
        // Flat: the second round adds little over the first (a loose bound; figures are printed above).
        XCTAssertLessThan(endMemory - middleMemory, 64 << 20, "memory grew by \(mib(endMemory - middleMemory)) in the second round")
        let status = try getJSON("/api/status")
        XCTAssertEqual(status["waiting"] as? Int, 0)
        XCTAssertLessThanOrEqual(try XCTUnwrap(status["tracked_jobs"] as? Int), 40, "finished jobs are not kept without bound")
    }
}
