// swift-tools-version:6.0
// Diffuse: a latent diffusion toolkit for Linux, on a CPU tensor engine of its own.
import PackageDescription

// Whole-module optimisation, with Swift's overflow and bounds checks kept in every target, the
// parsers of untrusted files included: measured with callgrind, the checks cost 0.3 % of the
// instructions of a U-Net forward once the one hot Swift loop (permuteCopy) wraps explicitly.
let optimized: [SwiftSetting] = [.unsafeFlags(["-wmo"])]

let package = Package(
    name: "Diffuse",
    products: [
        .executable(name: "diffuse", targets: ["diffuse"]),
        .executable(name: "diffuse-bench", targets: ["diffuse-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    ],
    targets: [
        // System C libraries (Debian's -dev packages).
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),

        // C: whole-image codec operations; setjmp/longjmp stay in here.
        .target(name: "CImageCodecs", dependencies: ["CPNG", "CJPEG"],
                cSettings: [.unsafeFlags(["-O2"])]),
        // C: compute kernels (oneDNN GEMM and convolution, norms, softmax, activations, OpenMP loops).
        .target(name: "CKernels", dependencies: ["CDNNL"],
                cSettings: [.unsafeFlags(["-O3", "-ffp-contract=fast", "-fno-math-errno"])],
                linkerSettings: [.linkedLibrary("dnnl"), .linkedLibrary("gomp")]),

        // C: the few MPI calls of data-parallel training (MPI's handles are macros Swift cannot import).
        .target(name: "CMPIShim", dependencies: ["CMPI"], cSettings: [.unsafeFlags(["-O2"])]),

        // Output files written without losing what was at the path (atomic, devices and links respected).
        .target(name: "FileIO", swiftSettings: optimized),
        .target(name: "TensorCore", dependencies: ["CKernels", "FileIO"], swiftSettings: optimized),
        .target(name: "NN", dependencies: ["TensorCore", "CKernels"], swiftSettings: optimized),
        .target(name: "Imaging", dependencies: ["CImageCodecs", "FileIO"], swiftSettings: optimized),
        .target(name: "Models", dependencies: ["NN", "TensorCore", "FileIO"], swiftSettings: optimized),
        .target(name: "Schedulers", dependencies: ["TensorCore"], swiftSettings: optimized),
        .target(name: "Pipelines", dependencies: ["Models", "Schedulers", "Imaging", "TensorCore", "FileIO"],
                swiftSettings: optimized),
        .target(name: "Training", dependencies: ["Pipelines", "Models", "NN", "Imaging", "TensorCore", "FileIO"],
                swiftSettings: optimized),
        // The HTTP studio and APIs over Pipelines (static page files copied as resources).
        .target(name: "Server", dependencies: [
            "Pipelines", "Schedulers", "Imaging", "TensorCore", "FileIO",
            .product(name: "Hummingbird", package: "hummingbird"),
        ], resources: [.copy("Static")]),
        // Data-parallel training over MPI: launch detection, ranks, the gradient all-reduce.
        .target(name: "DataParallel", dependencies: ["CMPIShim", "Training", "NN", "TensorCore"], swiftSettings: optimized),
        .executableTarget(name: "diffuse", dependencies: [
            "Pipelines", "Training", "DataParallel", "Server", "Imaging", "Models", "Schedulers", "TensorCore", "FileIO",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: optimized),
        .executableTarget(name: "diffuse-bench", dependencies: [
            "Models", "NN", "Pipelines", "TensorCore", "CKernels",
        ], swiftSettings: optimized),

        // Tests: read ../shared in place and fail loudly when it is missing.
        .target(name: "TestSupport", dependencies: ["TensorCore"], path: "Tests/TestSupport"),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "TestSupport"]),
        .testTarget(name: "FileIOTests", dependencies: ["FileIO", "TestSupport"]),
        .testTarget(name: "KernelTests", dependencies: ["CKernels", "TestSupport"]),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "TensorCore", "TestSupport"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "TestSupport"]),
        .testTarget(name: "SchedulersTests", dependencies: ["Schedulers", "TensorCore", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Models", "NN", "Schedulers", "TestSupport"]),
        .testTarget(name: "PipelinesTests", dependencies: ["Pipelines", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["TensorCore", "Imaging", "TestSupport"]),
        .testTarget(name: "ServerTests", dependencies: ["Imaging", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)

// libFuzzer targets (Fuzz/): declared only for scripts/fuzz.sh, which builds them with
// -sanitize=fuzzer,address in its own scratch path, so ordinary builds never see them.
if Context.environment["DIFFUSE_FUZZ"] == "1" {
    package.targets.append(.executableTarget(
        name: "diffuse-fuzz", dependencies: ["Imaging", "Models", "Schedulers", "TensorCore", "Training"], path: "Fuzz",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
}
