// `diffuse-bench emoji_lora_train | emoji_full_train`: one training step of LoRA adapters against
// full training (U-Net + text encoder) on the same model and batch; each case in its own process.
import Foundation
import Models
import NN
import Pipelines
import TensorCore

enum LoRABenchmark {
    static let cases = ["emoji_lora_train", "emoji_full_train"]

    static func run(_ name: String, modelDirectory: String, batch: Int, runs: Int?) throws {
        let lora = name == "emoji_lora_train"
        // As `train-lora` loads it: a frozen base model stores its weights in bf16 under native bf16.
        let model = try WeightStorage.building(inBFloat16: lora && ComputePrecision.mode == .bfloat16) {
            try StableDiffusion.load(directory: URL(fileURLWithPath: modelDirectory))
        }
        var generator = TorchGenerator(seed: 0)
        func randn(_ shape: [Int]) throws -> Tensor { try Tensor(shape: shape, values: generator.randn(count: shape.reduce(1, *))) }
        let size = model.nativeSize / model.vaeScaleFactor
        let latents = try randn([batch, model.latentChannels, size, size])   // [B, 4, h, w]
        let target = try randn(latents.shape)
        let timesteps = (0..<batch).map { _ in Float(generator.random32() % 1000) }
        let ids = Array(repeating: model.tokenizer.inputIDs("red apple").ids, count: batch).flatMap { $0 }
        let parameters: [(key: String, parameter: Parameter)]
        if lora {
            var initializer = Initializer(seed: 0)
            parameters = model.unet.attachLoRA(layers: ["to_q", "to_k", "to_v", "to_out.0"], rank: 4, alpha: 4, initializer: &initializer)
            for (_, parameter) in model.textEncoder.namedParameters() { parameter.freeze() }
            // A trained adapter, not the zero B of the first step.
            for (key, parameter) in parameters where key.hasSuffix("lora_B.weight") { try parameter.assign(try randn(parameter.shape) * 0.01) }
        } else {
            parameters = model.unet.namedParameters(prefix: "unet.") + model.textEncoder.namedParameters(prefix: "text_encoder.")
        }
        let optimizer = AdamW(parameters: parameters, learningRate: 1e-4)
        let body = {
            for (_, parameter) in parameters { parameter.zeroGrad() }
            let encode = { model.textEncoder(ids: ids, batch: batch).lastHidden }   // [B, 77, D]
            let context = lora ? Autograd.withoutGrad(encode) : encode()
            model.unet(latents, timesteps: timesteps, context: context).mseLoss(target).backward()
            optimizer.update()
        }
        body()  // warm-up: primitive caches, optimiser state
        var times: [Double] = []
        for _ in 0..<(runs ?? 5) {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let median = times.sorted()[times.count / 2]
        let trained = parameters.reduce(0) { $0 + $1.parameter.value.count }
        print(String(format: "{\"case\": \"%@\", \"batch\": %d, \"median_s\": %.4f, \"peak_rss_mb\": %d, \"trained_params\": %d, \"threads\": %d}",
                     name, batch, median, ModelBenchmarks.peakResidentMegabytes(), trained, Threads.count))
    }
}
