// The four model cases of ../shared/bench, measured the way bench_torch.py measures PyTorch:
// model built first, one untimed warm-up, then the median of timed runs; each case in its
// own process so that its peak resident memory is its own.
import Foundation
import Models
import NN
import TensorCore

enum ModelBenchmarks {
    static let cases = ["bench_unet_fwd", "bench_unet_train", "sd15_unet_fwd", "sd15_vae_decode"]

    /// Runs every case in a child process of this executable, printing their JSON lines.
    static func runAll(sharedDirectory: String, runs: Int?, precision: String) -> Int32 {
        var status: Int32 = 0
        for name in cases {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            process.arguments = [name, "--shared", sharedDirectory, "--precision", precision] + (runs.map { ["--runs", "\($0)"] } ?? [])
            do {
                try process.run()
                process.waitUntilExit()
                if process.terminationStatus != 0 { status = process.terminationStatus }
            } catch {
                FileHandle.standardError.write(Data("error: cannot start \(name): \(error)\n".utf8))
                status = 1
            }
        }
        return status
    }

    /// Builds case `name`, times it and prints one JSON line. `alternating`: bench_unet_train only,
    /// float32 and bf16 steps in turn on the same model (its master weights are float32 either
    /// way), so that both medians and their ratio see the same state of a noisy host; `parts`:
    /// then also the median time of each part of a step (OpProfile), one JSON line each.
    static func run(_ name: String, sharedDirectory: String, runs: Int?, alternating: Bool = false,
                    parts: Bool = false) throws {
        guard !alternating || name == "bench_unet_train" else {
            throw BenchmarkError("--alternate compares precisions of bench_unet_train only")
        }
        guard !parts || alternating else { throw BenchmarkError("--parts goes with --alternate") }
        let configs = URL(fileURLWithPath: sharedDirectory).appendingPathComponent("bench/configs")
        var generator = TorchGenerator(seed: 0)
        func randn(_ shape: [Int]) throws -> Tensor { try Tensor(shape: shape, values: generator.randn(count: shape.reduce(1, *))) }
        let body: () throws -> Void
        let parameters: Int
        // Forward cases build their model as `diffuse` does for native bf16 inference: weights in bf16.
        let inBFloat16 = name != "bench_unet_train" && ComputePrecision.mode == .bfloat16
        switch name {
        case "bench_unet_fwd", "bench_unet_train":
            let config = try UNet2DConditionModel.loadConfig(directory: configs.appendingPathComponent("bench-unet"))
            let unet = try WeightStorage.building(inBFloat16: inBFloat16) { try UNet2DConditionModel(config: config) }
            parameters = unet.parameterCount
            if name == "bench_unet_fwd" {
                let (x, context) = (try randn([2, 4, 16, 16]), try randn([2, 77, 256]))
                body = { _ = Autograd.withoutGrad { unet(x, timesteps: [500, 500], context: context) } }
            } else {
                let (x, context, target) = (try randn([16, 4, 16, 16]), try randn([16, 77, 256]), try randn([16, 4, 16, 16]))
                let timesteps = (0..<16).map { _ in Float(generator.random32() % 1000) }
                let optimizer = AdamW(parameters: unet.namedParameters(), learningRate: 1e-4)
                body = {
                    unet.zeroGrad()
                    unet(x, timesteps: timesteps, context: context).mseLoss(target).backward()
                    optimizer.update()
                }
            }
        case "sd15_unet_fwd":
            let config = try UNet2DConditionModel.loadConfig(directory: configs.appendingPathComponent("sd15-unet"))
            let unet = try WeightStorage.building(inBFloat16: inBFloat16) { try UNet2DConditionModel(config: config) }
            parameters = unet.parameterCount
            let (x, context) = (try randn([2, 4, 64, 64]), try randn([2, 77, 768]))
            body = { _ = Autograd.withoutGrad { unet(x, timesteps: [500, 500], context: context) } }
        case "sd15_vae_decode":
            let config = try AutoencoderKL.loadConfig(directory: configs.appendingPathComponent("sd15-vae"))
            let vae = try WeightStorage.building(inBFloat16: inBFloat16) { try AutoencoderKL(config: config) }
            parameters = vae.parameterCount
            let z = try randn([1, 4, 64, 64])
            body = { _ = Autograd.withoutGrad { vae.decode(z) } }
        default:
            throw BenchmarkError("unknown case \(name) (cases: \(cases.joined(separator: ", ")))")
        }
        let count = runs ?? (name.hasPrefix("bench_") ? 5 : 3)
        if alternating {
            try printAlternating(body, count: count, parameters: parameters, parts: parts)
            return
        }
        func timed() throws -> [Double] {
            try body()  // warm-up: primitive caches, optimiser state, kept weight layouts
            var times: [Double] = []
            for _ in 0..<count {
                let start = DispatchTime.now().uptimeNanoseconds
                try body()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            return times
        }
        // A forward case stands for one step of a denoising loop, which keeps convolution weights
        // in oneDNN's layouts across steps within the same budget (as OpenVINO converts them when
        // it compiles the model); training changes its weights every step.
        let times = name == "bench_unet_train" ? try timed() : try FrozenWeights.during(timed)
        let median = times.sorted()[times.count / 2]
        print(String(format: "{\"case\": \"%@\", \"median_s\": %.4f, \"peak_rss_mb\": %d, \"params\": %d, \"threads\": %d, \"precision\": \"%@\"}",
                     name, median, peakResidentMegabytes(), parameters, Threads.count, ComputePrecision.mode.name))
    }

    /// Times `count` steps in each precision, float32 and bf16 in turn after a warm-up step of each;
    /// with `parts`, also each part of every step by pass, and the rest of it (the step less its parts).
    static func printAlternating(_ body: () throws -> Void, count: Int, parameters: Int, parts: Bool) throws {
        guard ComputePrecision.nativeBFloat16 else { throw BenchmarkError("--alternate needs native bf16 (AVX-512 BF16 or AMX)") }
        let precisions: [ComputePrecision] = [.float32, .bfloat16]
        var times: [ComputePrecision: [Double]] = [:]
        var partTimes: [ComputePrecision: [String: [Double]]] = [:]
        OpProfile.isEnabled = parts
        defer { OpProfile.isEnabled = false }
        for round in -1..<count {
            for precision in precisions {
                try ComputePrecision.use(precision, emulate: false)
                OpProfile.reset()
                let start = DispatchTime.now().uptimeNanoseconds
                try body()
                let step = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                guard round >= 0 else { continue }
                times[precision, default: []].append(step)
                for part in OpProfile.Part.allCases {
                    for pass in OpProfile.Pass.allCases {
                        partTimes[precision, default: [:]]["\(part.rawValue) \(pass.rawValue)", default: []].append(OpProfile.seconds(part, pass))
                    }
                }
                partTimes[precision, default: [:]]["rest", default: []].append(step - OpProfile.seconds.values.reduce(0, +))
            }
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let (fp32, bf16) = (median(times[.float32]!), median(times[.bfloat16]!))
        print(String(format: "{\"case\": \"bench_unet_train\", \"median_fp32_s\": %.4f, \"median_bf16_s\": %.4f, \"bf16_over_fp32\": %.3f, \"peak_rss_mb\": %d, \"params\": %d, \"threads\": %d}",
                     fp32, bf16, bf16 / fp32, peakResidentMegabytes(), parameters, Threads.count))
        guard parts else { return }
        // (label, key): the optimiser's update has no backward pass.
        let rows = OpProfile.Part.allCases.flatMap { part in
            part == .optimizer ? [(part.rawValue, "\(part.rawValue) fwd")]
                : OpProfile.Pass.allCases.map { ("\(part.rawValue) \($0.rawValue)", "\(part.rawValue) \($0.rawValue)") }
        } + [("rest", "rest")]
        for (label, key) in rows {
            let (a, b) = (median(partTimes[.float32]![key]!), median(partTimes[.bfloat16]![key]!))
            print(String(format: "{\"part\": \"%@\", \"median_fp32_ms\": %.1f, \"median_bf16_ms\": %.1f, \"bf16_over_fp32\": %.3f}",
                         label, a * 1e3, b * 1e3, a > 0 ? b / a : 0))
        }
    }

    /// The process's peak resident set size (VmHWM), in MB.
    static func peakResidentMegabytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return -1 }
        return kilobytes / 1024
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
