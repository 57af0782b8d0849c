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
                        let json = try client.post("/sdapi/v1/txt2img", json: ["prompt": "red apple", "seed": seed, "steps": 3]).json()
                        count = (json["images"] as? [String])?.count ?? 0
                    case 1:
                        let json = try client.post("/v1/images/generations", json: ["prompt": "dog face", "seed": seed, "steps": 3]).json()
                        count = (json["data"] as? [[String: Any]])?.count ?? 0
                    default:
                        let json = try client.post("/sdapi/v1/txt2img", json: ["prompt": "thumbs up", "seed": seed, "steps": 2,
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
        // Warm up as many concurrent connections as the test uses (each gets allocator arenas
        // and buffers of its own), so what follows measures growth, not first use.
        _ = try round(clients: 4, requestsEach: 3)
        // One job alone, at the model's defaults (10 steps): the client's wall time from submit
        // to the end of the event stream, against the server's own compute time for the job.
        var single: [String] = []
        for seed in 0..<3 {
            let start = Date()
            let id = try XCTUnwrap(try post("/api/jobs", ["prompt": "red apple", "seed": seed], status: 202)["id"] as? String)
            let stream = try client.get("/api/jobs/\(id)/events").text
            let wall = Date().timeIntervalSince(start)
            let last = try XCTUnwrap(stream.components(separatedBy: "\n\n").last { $0.hasPrefix("data: ") })
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(last.dropFirst(6).utf8)) as? [String: Any])
            XCTAssertEqual(json["state"] as? String, "done")
            let compute = try XCTUnwrap(json["seconds"] as? Double)
            single.append(String(format: "%.0f ms (compute %.0f ms)", wall * 1000, compute * 1000))
        }
        print("single job at the defaults (10 steps, the native size), submit to done: \(single.joined(separator: ", "))")
        let startMemory = server.residentBytes
        let clients = 4, each = 3, rounds = 3
        var results: [(latencies: [Double], failures: [String], images: Int)] = []
        var memory = [startMemory]
        let started = Date()
        for _ in 0..<rounds {
            results.append(try round(clients: clients, requestsEach: each))
            memory.append(server.residentBytes)
        }
        let seconds = Date().timeIntervalSince(started)
        XCTAssertEqual(results.flatMap(\.failures), [])
        XCTAssertEqual(results.map(\.images).reduce(0, +), rounds * clients * each, "every request got its image")
        let sorted = results.flatMap(\.latencies).sorted()
        func ms(_ s: Double) -> String { String(format: "%.0f ms", s * 1000) }
        let mib = { (b: Int) in String(format: "%.1f MiB", Double(b) / 1_048_576) }
        print("""
            load test: \(clients) concurrent clients × \(each) requests × \(rounds) rounds (\(rounds * clients * each) requests of \
            2 or 3 steps, a third of them 2 images, each followed by a progress poll) in \(String(format: "%.1f", seconds)) s: \
            latency p50 \(ms(sorted[sorted.count / 2])), p90 \(ms(sorted[sorted.count * 9 / 10])), max \(ms(sorted.last ?? 0)); \
            server RSS after each round \(memory.map(mib).joined(separator: " → "))
            """)
        // Flat: the last round adds little (a loose bound; the figures are printed above).
        let growth = memory[rounds] - memory[rounds - 1]
        XCTAssertLessThan(growth, 48 << 20, "memory grew by \(mib(growth)) in the last round")
        let status = try getJSON("/api/status")
        XCTAssertEqual(status["waiting"] as? Int, 0)
        XCTAssertLessThanOrEqual(try XCTUnwrap(status["tracked_jobs"] as? Int), 40, "finished jobs are not kept without bound")
    }
}
