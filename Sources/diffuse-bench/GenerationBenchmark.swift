// Time for one image of a shipped model at generate's default settings (issue #7's figure),
// split into its phases: prompt encoding, the denoising loop, the VAE decode.
import Foundation
import NN
import Pipelines
import TensorCore

enum GenerationBenchmark {
    static let name = "emoji_generate"

    static func run(modelDirectory: String, runs: Int?) throws {
        let model = try WeightStorage.building(inBFloat16: ComputePrecision.mode == .bfloat16) {  // as `diffuse generate` loads it
            try StableDiffusion.load(directory: URL(fileURLWithPath: modelDirectory))
        }
        let request = GenerationRequest(prompt: "red apple")
        func seconds(_ body: () throws -> Void) rethrows -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        _ = try model.generate(request)  // warm-up: primitive caches
        let side = model.nativeSize / model.vaeScaleFactor
        var generator = TorchGenerator(seed: 0)
        let latents = try Tensor(shape: [1, model.latentChannels, side, side],  // [1, C, h, w]
                                 values: generator.randn(count: model.latentChannels * side * side))
        var total: [Double] = [], encode: [Double] = [], decode: [Double] = []
        for _ in 0..<(runs ?? 9) {
            total.append(try seconds { _ = try model.generate(request) })
            encode.append(try seconds {
                _ = try model.encodePrompt(request.prompt, negativePrompt: "", count: 1, guided: request.guidance > 1)
            })
            decode.append(try seconds { _ = try model.decode(latents: latents) })
        }
        let loop = median(total) - median(encode) - median(decode)
        print(String(format: "{\"case\": \"%@\", \"median_s\": %.4f, \"encode_prompt_s\": %.4f, \"denoise_s\": %.4f, "
                     + "\"per_step_s\": %.4f, \"decode_s\": %.4f, \"steps\": %d, \"guidance\": %g, \"peak_rss_mb\": %d, \"threads\": %d}",
                     name, median(total), median(encode), loop, loop / Double(request.steps), median(decode), request.steps,
                     request.guidance, ModelBenchmarks.peakResidentMegabytes(), Threads.count))
    }
}
