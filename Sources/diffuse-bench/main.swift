// diffuse-bench: throughput benchmarks; the first argument picks the suite.
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "kernels":
    KernelBenchmarks.run(options: Set(arguments.dropFirst()))
default:
    FileHandle.standardError.write("""
    usage: diffuse-bench kernels [--conv-modes]
      kernels       one JSON line per kernel: sgemm, copy, convolutions, attention, norms, softmax, activations
      --conv-modes  also time each convolution with plain and blocked oneDNN layouts\n
    """.data(using: .utf8)!)
    exit(2)
}
