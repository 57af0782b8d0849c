// diffuse-bench: throughput benchmarks; the first argument picks the suite or case.
import Foundation
import TensorCore

Threads.applyWaitPolicy()
let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
let shared = option("--shared") ?? "../shared"
let runs = option("--runs").flatMap { Int($0) }
let precision = option("--precision") ?? "fp32"

/// Runs one case at the chosen convolution precision; an error is one line and exit status 1.
func runCase(_ body: () throws -> Void) {
    do {
        guard let chosen = ComputePrecision(rawValue: precision) else {
            throw BenchmarkError("--precision must be fp32 or bf16, got \(precision)")
        }
        if try ComputePrecision.use(chosen) == .float32 && chosen == .bfloat16 {
            FileHandle.standardError.write(Data("warning: \(ComputePrecision.fallbackNotice)\n".utf8))
        }
        try body()
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(1)
    }
}

switch arguments.first {
case "kernels":
    runCase { KernelBenchmarks.run(options: Set(arguments.dropFirst())) }
case "all":
    exit(ModelBenchmarks.runAll(sharedDirectory: shared, runs: runs, precision: precision))
case GenerationBenchmark.name:
    runCase { try GenerationBenchmark.run(modelDirectory: option("--model") ?? "models/emoji", runs: runs) }
case let name? where LoRABenchmark.cases.contains(name):
    runCase { try LoRABenchmark.run(name, modelDirectory: option("--model") ?? "models/emoji", batch: option("--batch").flatMap { Int($0) } ?? 32, runs: runs) }
case let name? where ModelBenchmarks.cases.contains(name):
    runCase { try ModelBenchmarks.run(name, sharedDirectory: shared, runs: runs, alternating: arguments.contains("--alternate"),
                                       parts: arguments.contains("--parts")) }
default:
    FileHandle.standardError.write(Data("""
    usage: diffuse-bench kernels [--conv-modes] [--precision fp32|bf16]
           diffuse-bench all | bench_unet_fwd | bench_unet_train | sd15_unet_fwd | sd15_vae_decode [--runs N] [--shared DIR] [--precision fp32|bf16]
           diffuse-bench bench_unet_train --alternate [--parts] [--runs N] [--shared DIR]
           diffuse-bench emoji_generate [--model DIR] [--runs N] [--precision fp32|bf16]
           diffuse-bench emoji_lora_train | emoji_full_train [--model DIR] [--batch N] [--runs N]
      kernels       one JSON line per kernel: sgemm, copy, convolutions, attention, norms, softmax, activations
      --conv-modes  also time each convolution with plain and blocked oneDNN layouts
      all           the four model cases of ../shared/bench, each in its own process, one JSON line each
      --precision   products in fp32 (default) or bf16 (bfloat16 inputs, float32 accumulation; float32 without
                    AVX-512 BF16 or AMX; $DIFFUSE_BF16_EMULATE=1 emulates bf16 on any CPU, slowly)
      --alternate   float32 and bf16 training steps in turn on one model: both medians and their ratio
      --parts       with --alternate: also the median time of each part of a step (attention, linear
                    layers, convolutions, norms, optimizer, the rest), one JSON line each
      emoji_generate  one image of the shipped model at generate's defaults, with its phases
      emoji_lora_train, emoji_full_train  one training step (batch 32): rank-4 U-Net LoRA vs U-Net + text encoder\n
    """.utf8))
    exit(2)
}
