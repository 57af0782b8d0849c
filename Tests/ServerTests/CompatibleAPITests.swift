// The A1111 and OpenAI shaped APIs: response shapes, sampler names, defaults, and the same
// pixels as `diffuse generate` for the same seed and settings.
import Foundation
import Imaging
import XCTest

final class CompatibleAPITests: ServerTestCase {
    func testTxt2imgMatchesTheCLIPixelForPixel() throws {
        let json = try post("/sdapi/v1/txt2img", ["prompt": "red apple", "seed": 7, "steps": 6, "sampler_name": "DPM++ 2M Karras",
                                                  "cfg_scale": 6.5, "negative_prompt": "green"])
        let images = try XCTUnwrap(json["images"] as? [String])
        XCTAssertEqual(images.count, 1)
        let served = try decodePNG(base64: images[0])
        let parameters = try XCTUnwrap(json["parameters"] as? [String: Any])
        XCTAssertEqual(parameters["sampler_name"] as? String, "DPM++ 2M Karras")
        XCTAssertEqual(parameters["seed"] as? Int, 7)
        let infoText = try XCTUnwrap(json["info"] as? String, "info must be a JSON string, as A1111 sends it")
        let info = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(infoText.utf8)) as? [String: Any])
        XCTAssertEqual(info["seed"] as? Int, 7)
        XCTAssertEqual(info["all_seeds"] as? [Int], [7])
        XCTAssertEqual(info["steps"] as? Int, 6)

        let folder = try Self.temporaryDirectory()
        let cliOutput = folder.appendingPathComponent("cli.png").path
        try runCLI(["generate", "red apple", "--seed", "7", "--steps", "6", "--scheduler", "dpm++2m-karras", "--guidance", "6.5",
                    "--negative-prompt", "green", "--model", ServerProcess.modelPath, "--quiet", "-o", cliOutput])
        let cli = try ImageDecoder().decode(contentsOf: URL(fileURLWithPath: cliOutput))
        XCTAssertEqual(served.image.width, cli.image.width)
        XCTAssertEqual(served.image.pixels, cli.image.pixels, "the API and the CLI must give the same pixels")
        let chunks = Dictionary(served.metadata.textChunks.map { ($0.key, $0.value) }) { a, _ in a }
        XCTAssertEqual(chunks["prompt"], "red apple")
        XCTAssertEqual(chunks["seed"], "7")
        XCTAssertEqual(chunks["scheduler"], "dpm++2m-karras")
    }

    /// `serve --precision bf16` loads the model as `generate --precision bf16` does (its weights in
    /// bf16 where the CPU runs bf16): the same pixels for the same seed, and the same record of
    /// the precision in the PNG.
    func testBFloat16ServerMatchesTheCLIPixelForPixel() throws {
        let bf16 = try ServerProcess(extraArguments: ["--precision", "bf16"])
        defer { bf16.stop() }
        let response = try bf16.client.post("/sdapi/v1/txt2img", json: ["prompt": "red apple", "seed": 5, "steps": 4])
        XCTAssertEqual(response.status, 200, response.text)
        let served = try decodePNG(base64: try XCTUnwrap((try response.json()["images"] as? [String])?.first))
        let cliOutput = try Self.temporaryDirectory().appendingPathComponent("cli.png").path
        try runCLI(["generate", "red apple", "--seed", "5", "--steps", "4", "--precision", "bf16", "--model", ServerProcess.modelPath,
                    "--quiet", "-o", cliOutput])
        let cli = try ImageDecoder().decode(contentsOf: URL(fileURLWithPath: cliOutput))
        XCTAssertEqual(served.image.pixels, cli.image.pixels, "the bf16 server and the bf16 CLI must give the same pixels")
        func precision(_ image: DecodedImage) -> String? { image.metadata.textChunks.first { $0.key == "precision" }?.value }
        XCTAssertEqual(precision(served), precision(cli), "both record the precision alike (bf16, or nothing where float32 ran)")
    }

    func testOmittedFieldsTakeTheModelsDefaultsLikeTheCLI() throws {
        let json = try post("/sdapi/v1/txt2img", ["prompt": "dog face", "seed": 3])
        let served = try decodePNG(base64: try XCTUnwrap((json["images"] as? [String])?.first))
        let info = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try XCTUnwrap(json["info"] as? String).utf8)) as? [String: Any])
        XCTAssertEqual(info["steps"] as? Int, 10)
        XCTAssertEqual(info["width"] as? Int, try ServerProcess.modelImageSize())
        let folder = try Self.temporaryDirectory()
        let cliOutput = folder.appendingPathComponent("cli.png").path
        try runCLI(["generate", "dog face", "--seed", "3", "--model", ServerProcess.modelPath, "--quiet", "-o", cliOutput])
        let cli = try ImageDecoder().decode(contentsOf: URL(fileURLWithPath: cliOutput))
        XCTAssertEqual(served.image.pixels, cli.image.pixels)
    }

    func testEverySamplerNameMaps() throws {
        let samplers = try client.get("/sdapi/v1/samplers")
        XCTAssertEqual(samplers.status, 200)
        let list = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(samplers.body)) as? [[String: Any]])
        let names = list.compactMap { $0["name"] as? String }
        for name in ["Euler", "Euler a", "DPM++ 2M", "DPM++ 2M Karras", "DPM++ 2M SDE", "DPM++ 2M SDE Karras", "DDIM", "PNDM",
                     "LMS", "Heun", "LCM"] {
            XCTAssertTrue(names.contains(name), "\(name) missing from \(names)")
        }
        for name in ["Euler a", "DPM++ 2M SDE Karras", "DDIM", "Heun"] {
            let json = try post("/sdapi/v1/txt2img", ["prompt": "red apple", "seed": 1, "steps": 2, "sampler_name": name])
            XCTAssertEqual((json["images"] as? [String])?.count, 1, name)
        }
    }

    func testBatchAndIterations() throws {
        let json = try post("/sdapi/v1/txt2img", ["prompt": "thumbs up", "seed": 11, "steps": 2, "batch_size": 2, "n_iter": 2])
        XCTAssertEqual((json["images"] as? [String])?.count, 4)
        let info = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try XCTUnwrap(json["info"] as? String).utf8)) as? [String: Any])
        XCTAssertEqual(info["all_seeds"] as? [Int], [11, 11, 13, 13])
    }

    func testImg2imgAndInpaint() throws {
        let first = try post("/sdapi/v1/txt2img", ["prompt": "red apple", "seed": 5, "steps": 4])
        let initImage = try XCTUnwrap((first["images"] as? [String])?.first)
        let json = try post("/sdapi/v1/img2img", ["prompt": "green apple", "init_images": ["data:image/png;base64," + initImage],
                                                  "denoising_strength": 0.6, "seed": 5, "steps": 5])
        let result = try decodePNG(base64: try XCTUnwrap((json["images"] as? [String])?.first))
        let size = try ServerProcess.modelImageSize()
        XCTAssertEqual(result.image.width, size)
        let parameters = try XCTUnwrap(json["parameters"] as? [String: Any])
        XCTAssertEqual(parameters["denoising_strength"] as? Double, 0.6)
        XCTAssertNil(parameters["init_images"], "init images are not echoed back")

        // A mask: the left half repaints, the right half keeps its pixels exactly.
        var maskPixels = [UInt8](repeating: 0, count: size * size * 3)
        for y in 0..<size { for x in 0..<size / 2 { for c in 0..<3 { maskPixels[(y * size + x) * 3 + c] = 255 } } }
        let mask = try Image(width: size, height: size, channels: 3, pixels: maskPixels)
        let maskBase64 = Data(try mask.pngData()).base64EncodedString()
        let inpainted = try post("/sdapi/v1/img2img", ["prompt": "blue circle", "init_images": [initImage], "mask": maskBase64,
                                                       "seed": 2, "steps": 4])
        let painted = try decodePNG(base64: try XCTUnwrap((inpainted["images"] as? [String])?.first)).image
        let original = try decodePNG(base64: initImage).image
        for y in 0..<size { for x in size / 2..<size {
            XCTAssertEqual(painted[x, y, 0], original[x, y, 0], "kept pixel (\(x), \(y)) changed")
        } }
    }

    func testOpenAIImagesGenerations() throws {
        let json = try post("/v1/images/generations", ["prompt": "grinning face", "n": 2, "size": "32x32", "seed": 4, "steps": 3])
        let data = try XCTUnwrap(json["data"] as? [[String: Any]])
        XCTAssertEqual(data.count, 2)
        for item in data {
            let image = try decodePNG(base64: try XCTUnwrap(item["b64_json"] as? String))
            XCTAssertEqual(image.image.width, 32)
        }
        XCTAssertNotNil(json["created"] as? Int)
        let urls = try post("/v1/images/generations", ["prompt": "grinning face", "response_format": "url", "steps": 2])
        let url = try XCTUnwrap((urls["data"] as? [[String: Any]])?.first?["url"] as? String)
        let path = try XCTUnwrap(url.range(of: "/outputs/").map { String(url[$0.lowerBound...]) })
        let fetched = try client.get(path)
        XCTAssertEqual(fetched.status, 200)
        XCTAssertEqual(fetched.headers["content-type"], "image/png")
    }

    func testProgressWhenIdleAndRunning() throws {
        let idle = try getJSON("/sdapi/v1/progress")
        XCTAssertNotNil(idle["progress"] as? Double)
        XCTAssertNotNil(idle["state"] as? [String: Any])
        let job = try post("/api/jobs", ["prompt": "red apple", "steps": 20, "seed": 1], status: 202)
        let id = try XCTUnwrap(job["id"] as? String)
        var sawRunning = false
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let progress = try getJSON("/sdapi/v1/progress")
            let state = try XCTUnwrap(progress["state"] as? [String: Any])
            if let steps = state["sampling_steps"] as? Int, steps == 20, let p = progress["progress"] as? Double, p > 0 {
                sawRunning = true
                XCTAssertTrue(p <= 1)
                break
            }
            if (try getJSON("/api/jobs/\(id)"))["state"] as? String == "done" { break }
            usleep(20_000)
        }
        XCTAssertTrue(sawRunning, "progress never showed the running job")
        _ = try client.post("/api/jobs/\(id)/cancel", json: [String: Any]())
    }
}
