// The job queue: one job at a time, positions for the waiting, cancel queued or running, live
// previews over server-sent events, and nothing lost or written by a cancelled job.
import Foundation
import XCTest

final class QueueTests: ServerTestCase {
    func state(_ id: String) throws -> [String: Any] { try getJSON("/api/jobs/\(id)") }

    func waitFor(_ id: String, states: Set<String>, timeout: TimeInterval = 300) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let json = try state(id)
            if let s = json["state"] as? String, states.contains(s) { return json }
            usleep(20_000)
        }
        throw HTTPClientError(message: "job \(id) never reached \(states)")
    }

    func testPositionsAndCancelQueuedOrRunning() throws {
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: server.outputDirectory.path))
        let ids = try (0..<3).map { i in
            try XCTUnwrap(try post("/api/jobs", ["prompt": "red apple", "steps": 30 + i, "seed": i], status: 202)["id"] as? String)
        }
        _ = try waitFor(ids[0], states: ["running"])
        let third = try state(ids[2])
        XCTAssertEqual(third["state"] as? String, "queued")
        XCTAssertEqual(third["position"] as? Int, 2, "two ahead: the second waits at 1")
        // Cancel the waiting one, then the running one.
        let cancelled = try post("/api/jobs/\(ids[2])/cancel", [:])
        XCTAssertEqual(cancelled["state"] as? String, "cancelled")
        let running = try client.send("DELETE", "/api/jobs/\(ids[0])")
        XCTAssertEqual(running.status, 200)
        XCTAssertEqual((try running.json())["state"] as? String, "cancelled")
        // The second runs to the end and writes its image.
        let done = try waitFor(ids[1], states: ["done", "failed", "cancelled"])
        XCTAssertEqual(done["state"] as? String, "done")
        XCTAssertEqual((done["images"] as? [[String: Any]])?.count, 1)
        XCTAssertEqual(try state(ids[0])["state"] as? String, "cancelled")
        let after = Set(try FileManager.default.contentsOfDirectory(atPath: server.outputDirectory.path))
        let added = after.subtracting(before)
        XCTAssertTrue(added.allSatisfy { $0.contains(ids[1]) }, "only the finished job wrote files: \(added)")
        XCTAssertFalse(after.contains { $0.hasPrefix(".") }, "no temporary files are left behind")
        // Cancelling again, or an unknown job, is harmless.
        XCTAssertEqual(try client.post("/api/jobs/\(ids[0])/cancel", json: [String: Any]()).status, 200)
        XCTAssertEqual(try client.post("/api/jobs/zzz/cancel", json: [String: Any]()).status, 404)
        // And the server goes on serving.
        XCTAssertEqual((try post("/sdapi/v1/txt2img", ["prompt": "dog face", "steps": 2])["images"] as? [String])?.count, 1)
    }

    func testEventsStreamEveryStepsPreview() throws {
        let job = try post("/api/jobs", ["prompt": "red apple", "steps": 5, "seed": 9, "sampler": "euler-a"], status: 202)
        let id = try XCTUnwrap(job["id"] as? String)
        let response = try client.send("GET", "/api/jobs/\(id)/events")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["content-type"], "text/event-stream")
        let events = try response.text.components(separatedBy: "\n\n").compactMap { block -> [String: Any]? in
            guard block.hasPrefix("data: ") else { return nil }
            return try JSONSerialization.jsonObject(with: Data(block.dropFirst(6).utf8)) as? [String: Any]
        }
        let previews = events.flatMap { $0["previews"] as? [String] ?? [] }
        XCTAssertEqual(previews.count, 5, "one decoded x̂₀ per step")
        let size = try ServerProcess.modelImageSize()
        for preview in previews { XCTAssertEqual(try decodePNG(base64: preview).image.width, size) }
        let last = try XCTUnwrap(events.last)
        XCTAssertEqual(last["state"] as? String, "done")
        XCTAssertEqual((last["images"] as? [[String: Any]])?.count, 1)
    }

    func testNoiseDenoiseAndInside() throws {
        let made = try post("/sdapi/v1/txt2img", ["prompt": "red apple", "seed": 0, "steps": 3])
        let image = try XCTUnwrap((made["images"] as? [String])?.first)
        let noise = try XCTUnwrap(try post("/api/jobs", ["mode": "noise", "image": image], status: 202)["id"] as? String)
        let ladder = try waitFor(noise, states: ["done", "failed"])
        let frames = try XCTUnwrap(ladder["frames"] as? [[String: Any]], "\(ladder["error"] ?? "")")
        XCTAssertGreaterThan(frames.count, 10)
        XCTAssertEqual(frames.first?["t"] as? Int, 0)
        XCTAssertEqual(frames.first?["signal_scale"] as? Double, 1)
        XCTAssertLessThan(try XCTUnwrap(frames.last?["signal_scale"] as? Double), 0.1)
        let denoise = try XCTUnwrap(try post("/api/jobs", ["mode": "denoise", "image": image, "t": 400, "steps": 4], status: 202)["id"] as? String)
        XCTAssertEqual(try waitFor(denoise, states: ["done", "failed"])["state"] as? String, "done")
        let inside = try XCTUnwrap(try post("/api/jobs", ["mode": "inside", "prompt": "red apple", "steps": 3], status: 202)["id"] as? String)
        let views = try waitFor(inside, states: ["done", "failed"])
        XCTAssertNotNil(views["trajectory"] as? String, "\(views["error"] ?? "")")
        XCTAssertNotNil(views["attention"] as? String)
        XCTAssertEqual((views["words"] as? [[String: Any]])?.map { $0["token"] as? String }, ["red", "apple"])
    }

    func testHistoryListsImagesWithTheirSettings() throws {
        _ = try post("/sdapi/v1/txt2img", ["prompt": "history check", "seed": 42, "steps": 2])
        let history = try getJSON("/api/history")
        let images = try XCTUnwrap(history["images"] as? [[String: Any]])
        let entry = try XCTUnwrap(images.first { ($0["parameters"] as? [String: String])?["prompt"] == "history check" })
        let parameters = try XCTUnwrap(entry["parameters"] as? [String: String])
        XCTAssertEqual(parameters["seed"], "42")
        XCTAssertEqual(parameters["steps"], "2")
        XCTAssertEqual(parameters["model"], "emoji")
        XCTAssertEqual(try client.get(try XCTUnwrap(entry["url"] as? String)).status, 200)
    }
}
