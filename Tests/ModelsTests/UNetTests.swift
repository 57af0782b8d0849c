// Tests for UNet2DConditionModel: diffusers reference outputs, configs, parameter counts, files, gradients.
import Foundation
import NN
import TensorCore
import TestSupport
import XCTest
@testable import Models

final class UNetTests: XCTestCase {
    private var temporaryDirectory: URL!

    override func setUpWithError() throws {
        temporaryDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("UNetTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporaryDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: temporaryDirectory)
    }

    private func fixtureUNet() throws -> UNet2DConditionModel {
        try UNet2DConditionModel.load(directory: SharedData.url("fixtures/diffusers-tiny/unet"))
    }

    private func reference() throws -> SafetensorsFile {
        try SafetensorsFile(contentsOf: SharedData.url("fixtures/diffusers-tiny/reference/unet.safetensors"))
    }

    private func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var initializer = Initializer(seed: seed)
        return initializer.normal(shape, std: scale)
    }

    // MARK: diffusers references

    func testBatchCaseMatchesDiffusers() throws {
        let (unet, ref) = (try fixtureUNet(), try reference())
        let sample = try Tensor(ref, "batch/sample"), context = try Tensor(ref, "batch/encoder_hidden_states")
        let timesteps = try ref.floats("batch/timesteps")
        XCTAssertEqual(timesteps, [999, 10])
        let out = try Autograd.withoutGrad { try unet.forward(sample, timesteps: timesteps, context: context) }
        assertClose(out, try Tensor(ref, "batch/out"), relative: 1e-4, "batch")
    }

    func testScalarTimestepNonSquareMatchesDiffusers() throws {
        let (unet, ref) = (try fixtureUNet(), try reference())
        let sample = try Tensor(ref, "scalar/sample"), context = try Tensor(ref, "scalar/encoder_hidden_states")
        XCTAssertEqual(sample.shape, [1, 4, 32, 24])
        let timesteps = try ref.floats("scalar/timestep")
        XCTAssertEqual(timesteps, [500])
        let out = try Autograd.withoutGrad { try unet.forward(sample, timesteps: timesteps, context: context) }
        assertClose(out, try Tensor(ref, "scalar/out"), relative: 1e-4, "scalar")
    }

    func testFractionalTimestepsMatchDiffusers() throws {
        let (unet, ref) = (try fixtureUNet(), try reference())
        let sample = try Tensor(ref, "batch/sample"), context = try Tensor(ref, "batch/encoder_hidden_states")
        let timesteps = try ref.floats("float/timesteps")
        XCTAssertEqual(timesteps, [957.375, 41.625])
        let out = try Autograd.withoutGrad { try unet.forward(sample, timesteps: timesteps, context: context) }
        assertClose(out, try Tensor(ref, "float/out"), relative: 1e-4, "float")
    }

    func testSingleTimestepBroadcastsToBatch() throws {
        let unet = try fixtureUNet()
        let sample = randomTensor([2, 4, 16, 8], seed: 1), context = randomTensor([2, 5, 32], seed: 2)
        let (single, repeated) = Autograd.withoutGrad {
            (unet(sample, timesteps: [321], context: context), unet(sample, timesteps: [321, 321], context: context))
        }
        XCTAssertEqual(single.values, repeated.values)
    }

    // MARK: pieces checked by hand

    func testSinusoidalEmbeddingByHand() {
        // dim 4: half 2, frequencies exp(-ln(10000)·i/2) = [1, 0.01]; flipped order is [cos, sin].
        let flipped = UNetTimestepEmbedding.sinusoidal([1, 50], dim: 4, flipSinToCos: true, downscaleFreqShift: 0)
        let expected: [Float] = [cos(1), cos(0.01), sin(1), sin(0.01), cos(50), cos(0.5), sin(50), sin(0.5)]
        for (a, b) in zip(flipped.values, expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        // freq_shift 1 divides by (half − 1): frequencies [1, 1e-4]; unflipped order is [sin, cos]; odd dims pad a zero.
        let shifted = UNetTimestepEmbedding.sinusoidal([2], dim: 5, flipSinToCos: false, downscaleFreqShift: 1)
        let expectedShifted: [Float] = [sin(2), sin(2e-4), cos(2), cos(2e-4), 0]
        XCTAssertEqual(shifted.shape, [1, 5])
        for (a, b) in zip(shifted.values, expectedShifted) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    /// Under bf16, attention's projections read one bf16 copy of their input (cross-attention one
    /// of the context) and GEGLU writes bf16 for the output layer, in inference and in training.
    /// Every linear layer rounds a float32 input the same way itself, so the values and every
    /// gradient must be those of the same layers with each linear rounding its own input. The
    /// feed-forward's projection also stores its output in bf16 for GEGLU (the reference rounds
    /// it explicitly), and GEGLU its gradient: the projection's products round that gradient
    /// themselves, but its bias gradient sums the rounded values (to 2^-8 of each).
    func testBFloat16SharedRoundingChangesNoValueOrGradient() throws {
        defer { XCTAssertNoThrow(try ComputePrecision.use(.float32)) }
        let mode = try ComputePrecision.use(.bfloat16)
        XCTAssertEqual(mode == .bfloat16, ComputePrecision.nativeBFloat16)
        var initializer = Initializer(seed: 11)
        let selfAttention = Attention(queryDim: 24, heads: 3, headDim: 8, initializer: &initializer)
        let crossAttention = Attention(queryDim: 24, contextDim: 16, heads: 3, headDim: 8, initializer: &initializer)
        let ff = UNetFeedForward(dim: 24, innerDim: 40, initializer: &initializer)
        let x = randomTensor([2, 70, 24], seed: 12).requiringGrad(), context = randomTensor([2, 9, 16], seed: 13).requiringGrad()
        let target = randomTensor([2, 70, 24], seed: 14)
        func unshared(_ layer: Attention, _ source: Tensor) -> Tensor {  // each projection rounds its own input
            layer.toOut(Tensor.attention(layer.toQ(x), layer.toK(source), layer.toV(source), heads: layer.heads,
                                         scale: 1 / Float(layer.headDim).squareRoot()))
        }
        let cases: [(String, Module, (_ shared: Bool) -> Tensor)] = [
            ("self-attention", selfAttention, { $0 ? selfAttention(x) : unshared(selfAttention, x) }),
            ("cross-attention", crossAttention, { $0 ? crossAttention(x, context: context) : unshared(crossAttention, context) }),
            ("feed-forward", ff, { $0 ? ff(x) : ff.outProj(ff.geluProj(x).sharedInBFloat16().geglu()) }),  // bf16 projection
        ]
        for (name, layer, run) in cases {
            let (inference, reference) = Autograd.withoutGrad { (run(true), run(false)) }
            XCTAssertFalse(inference.isBFloat16, name)
            XCTAssertEqual(inference.values, reference.values, "\(name): bf16 \(mode == .bfloat16)")
            // The gradients of the input, the context and every weight.
            func gradients(shared: Bool) -> (values: [Float], gradients: [[Float]]) {
                layer.zeroGrad()
                x.zeroGrad()
                context.zeroGrad()
                let y = run(shared)
                y.mseLoss(target).backward()
                let tensors = [x.grad, context.grad] + layer.namedParameters().map { $0.parameter.grad }
                return (y.values, tensors.map { $0?.values ?? [] })
            }
            let keys = ["input", "context"] + layer.namedParameters().map(\.key)
            let (shared, own) = (gradients(shared: true), gradients(shared: false))
            XCTAssertEqual(shared.values, own.values, name)
            XCTAssertEqual(shared.gradients.map(\.count), own.gradients.map(\.count), name)
            XCTAssertFalse(shared.gradients[0].isEmpty, name)
            for (key, (a, b)) in zip(keys, zip(shared.gradients, own.gradients)) {
                // To 1e-6 of each tensor's largest gradient; the bias summed from bf16 gradients to
                // 2^-6 of its largest (140 rows' roundings of up to 2^-8 each, of either sign).
                let roundedSum = mode == .bfloat16 && key == "net.0.proj.bias"
                let tolerance = (roundedSum ? 1.0 / 64 : 1e-6) * (b.map(abs).max() ?? 0)
                for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: tolerance, "\(name) \(key)") }
            }
        }
    }

    func testGEGLUFeedForwardMatchesDirectComputation() throws {
        var initializer = Initializer(seed: 9)
        let ff = UNetFeedForward(dim: 8, innerDim: 32, initializer: &initializer)
        let x = randomTensor([1, 16, 8], seed: 10)     // 16 tokens ≥ dim: weight-split path
        let few = x.slice(axis: 1, start: 0, length: 4)  // 4 tokens < dim: activation-split path
        // diffusers GEGLU: hidden, gate = proj(x).chunk(2, -1); net.2(hidden * gelu(gate)), gelu exact (erf).
        func direct(_ t: Tensor) -> [Float] {
            let projected = ff.geluProj(t).values, w = ff.outProj.weight.value.values, b = ff.outProj.bias!.value.values
            let tokens = t.shape[1]
            var out: [Float] = []
            for row in 0..<tokens {
                let p = Array(projected[(row * 64)..<(row * 64 + 64)])
                let a = (0..<32).map { p[$0] * 0.5 * p[32 + $0] * (1 + erf(p[32 + $0] / Float(2).squareRoot())) }
                out += (0..<8).map { o in b[o] + (0..<32).reduce(Float(0)) { $0 + w[o * 32 + $1] * a[$1] } }
            }
            return out
        }
        for (input, label) in [(x, "many tokens"), (few, "few tokens")] {
            let got = ff(input).values, expected = direct(input)
            XCTAssertEqual(got.count, expected.count, label)
            for (a, b) in zip(got, expected) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)), label) }
        }
    }

    func testDownsampleWithoutPaddingPadsRightAndBottom() throws {
        // diffusers Downsample2D with padding 0 pads (0, 1, 0, 1) before the stride-2 convolution.
        var initializer = Initializer(seed: 12)
        let down = UNetDownsample(channels: 2, padding: 0, initializer: &initializer)
        let x = randomTensor([1, 2, 4, 6], seed: 13)
        let out = down(x)
        XCTAssertEqual(out.shape, [1, 2, 2, 3])
        let xs = x.values, w = down.conv.weight.value.values, b = down.conv.bias!.value.values
        for o in 0..<2 { for i in 0..<2 { for j in 0..<3 {
            var sum = b[o]
            for c in 0..<2 { for ky in 0..<3 { for kx in 0..<3 {
                let (y, xx) = (2 * i + ky, 2 * j + kx)
                if y < 4, xx < 6 { sum += w[((o * 2 + c) * 3 + ky) * 3 + kx] * xs[(c * 4 + y) * 6 + xx] }
            } } }
            XCTAssertEqual(out.values[(o * 2 + i) * 3 + j], sum, accuracy: 1e-5, "[\(o), \(i), \(j)]")
        } } }
    }

    func testLinearProjectionEqualsOneByOneConvolution() throws {
        let convModel = try fixtureUNet()
        var config = convModel.config
        config.useLinearProjection = true
        let linearModel = try UNet2DConditionModel(config: config, seed: 3)
        XCTAssertEqual(linearModel.parameterCount, convModel.parameterCount)
        let source = Dictionary(uniqueKeysWithValues: convModel.namedParameters().map { ($0.key, $0.parameter) })
        for (key, parameter) in linearModel.namedParameters() {
            let from = try XCTUnwrap(source[key], key)
            try parameter.assign(from.value.reshaped(parameter.shape))
        }
        let projIn = try XCTUnwrap(linearModel.namedParameters().first { $0.key.hasSuffix("proj_in.weight") })
        XCTAssertEqual(projIn.parameter.shape.count, 2, "use_linear_projection stores proj_in as a Linear [out, in]")
        let sample = randomTensor([1, 4, 16, 16], seed: 4), context = randomTensor([1, 7, 32], seed: 5)
        let (a, b) = Autograd.withoutGrad {
            (convModel(sample, timesteps: [250], context: context), linearModel(sample, timesteps: [250], context: context))
        }
        assertClose(a, b, relative: 1e-4, "linear vs conv projection")
    }

    // MARK: configs and parameter counts

    func testFixtureParameterCountEqualsDiffusers() throws {
        let unet = try fixtureUNet()
        XCTAssertEqual(unet.parameterCount, 1_427_012)
        XCTAssertEqual(unet.config.blockOutChannels, [32, 64])
        XCTAssertEqual(unet.config.attentionHeadDim, .single(8))
        XCTAssertNil(unet.config.numAttentionHeads)
    }

    func testBenchConfigParameterCountEqualsDiffusers() throws {
        let config = try UNet2DConditionModel.loadConfig(directory: SharedData.url("bench/configs/bench-unet"))
        XCTAssertEqual(config.blockOutChannels, [64, 128, 256])
        XCTAssertEqual(try UNet2DConditionModel(config: config, seed: 7).parameterCount, 18_150_852)
    }

    func testStableDiffusion15ConfigLoads() throws {
        let config = try UNet2DConditionModel.loadConfig(directory: SharedData.url("bench/configs/sd15-unet"))
        let layout = try config.layout()
        XCTAssertEqual(config.crossAttentionDim, .single(768))
        XCTAssertEqual(layout.timeEmbedDim, 1280)
        XCTAssertEqual(layout.down.map(\.heads), [8, 8, 8, 8])
        XCTAssertEqual(layout.down.map(\.hasCrossAttention), [true, true, true, false])
        XCTAssertEqual(layout.up.map(\.resnetCount), [3, 3, 3, 3])
        XCTAssertEqual(layout.up.map(\.previousOutChannels), [1280, 1280, 1280, 640])
        XCTAssertEqual(layout.up.map(\.inChannels), [1280, 640, 320, 320])
    }

    func testPerBlockListsAndHeadNaming() throws {
        // SD 2.x style: attention_head_dim as a per-block list (heads, by diffusers' naming quirk).
        let json = #"""
        {"block_out_channels": [32, 64], "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
         "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"], "attention_head_dim": [2, 4],
         "layers_per_block": [1, 2], "cross_attention_dim": [16, 16], "transformer_layers_per_block": [2, 1],
         "use_linear_projection": true, "upcast_attention": true, "some_future_key": {"x": 1}}
        """#
        let config = try JSONDecoder().decode(UNetConfig.self, from: Data(json.utf8))
        let layout = try config.layout()
        XCTAssertEqual(layout.down.map(\.heads), [2, 4])
        XCTAssertEqual(layout.up.map(\.heads), [4, 2])
        XCTAssertEqual(layout.up.map(\.resnetCount), [3, 2])
        XCTAssertEqual(layout.down.map(\.transformerLayers), [2, 1])
        let unet = try UNet2DConditionModel(config: config, seed: 1)
        let keys = Set(unet.namedParameters().map(\.key))
        XCTAssertTrue(keys.contains("down_blocks.0.attentions.0.transformer_blocks.1.ff.net.2.weight"))
        XCTAssertFalse(keys.contains("down_blocks.0.resnets.1.conv1.weight"))
        XCTAssertTrue(keys.contains("up_blocks.1.attentions.1.proj_in.weight"))
        // num_attention_heads, when given, is the head count.
        var named = config
        named.numAttentionHeads = .single(8)
        XCTAssertEqual(try named.layout().down.map(\.heads), [8, 8])
        let out = Autograd.withoutGrad {
            unet(randomTensor([1, 4, 8, 8], seed: 2), timesteps: [10], context: randomTensor([1, 3, 16], seed: 3))
        }
        XCTAssertEqual(out.shape, [1, 4, 8, 8])
        XCTAssertTrue(out.values.allSatisfy(\.isFinite))
    }

    func testUnsupportedConfigValuesNameTheField() throws {
        let fixture = try String(contentsOf: SharedData.url("fixtures/diffusers-tiny/unet/config.json"), encoding: .utf8)
        let cases: [(String, String, String)] = [
            (#""down_block_types": ["#, #""down_block_types": ["AttnDownBlock2D", "DownBlock2D"], "unused": ["#, "down_block_types"),
            (#""class_embed_type": null"#, #""class_embed_type": "timestep""#, "class_embed_type"),
            (#""addition_embed_type": null"#, #""addition_embed_type": "text_time""#, "addition_embed_type"),
            (#""encoder_hid_dim_type": null"#, #""encoder_hid_dim_type": "text_proj""#, "encoder_hid_dim_type"),
            (#""time_cond_proj_dim": null"#, #""time_cond_proj_dim": 256"#, "time_cond_proj_dim"),
            (#""resnet_time_scale_shift": "default""#, #""resnet_time_scale_shift": "scale_shift""#, "resnet_time_scale_shift"),
            (#""time_embedding_type": "positional""#, #""time_embedding_type": "fourier""#, "time_embedding_type"),
            (#""act_fn": "silu""#, #""act_fn": "gelu""#, "act_fn"),
            (#""only_cross_attention": false"#, #""only_cross_attention": true"#, "only_cross_attention"),
            (#""mid_block_type": "UNetMidBlock2DCrossAttn""#, #""mid_block_type": "UNetMidBlock2DSimpleCrossAttn""#, "mid_block_type"),
            (#""dropout": 0.0"#, #""dropout": 0.1"#, "dropout"),
            (#""layers_per_block": 2"#, #""layers_per_block": "two""#, "layers_per_block"),
            (#""layers_per_block": 2"#, #""layers_per_block": [2, 2, 2]"#, "layers_per_block"),
            (#""attention_head_dim": 8"#, #""attention_head_dim": 7"#, "attention_head_dim"),
            (#""norm_num_groups": 32"#, #""norm_num_groups": null"#, "norm_num_groups"),
            (#""downsample_padding": 1"#, #""downsample_padding": 2"#, "downsample_padding"),
            (#""attention_type": "default""#, #""attention_type": "gated""#, "attention_type"),
        ]
        for (original, replacement, field) in cases {
            XCTAssertTrue(fixture.contains(original), original)
            let directory = temporaryDirectory.appendingPathComponent(field + "-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try fixture.replacingOccurrences(of: original, with: replacement)
                .write(to: directory.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try UNet2DConditionModel.loadConfig(directory: directory), field) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(field), "\(field): \(message)")
                XCTAssertTrue(message.contains("config.json"), "\(field): \(message)")
            }
        }
    }

    func testInvalidInputsAreErrors() throws {
        let unet = try fixtureUNet()
        let context = randomTensor([1, 4, 32], seed: 1)
        XCTAssertThrowsError(try unet.forward(randomTensor([1, 4, 9, 8], seed: 2), timesteps: [1], context: context))
        XCTAssertThrowsError(try unet.forward(randomTensor([1, 3, 8, 8], seed: 2), timesteps: [1], context: context))
        XCTAssertThrowsError(try unet.forward(randomTensor([2, 4, 8, 8], seed: 2), timesteps: [1, 2, 3],
                                              context: randomTensor([2, 4, 32], seed: 1)))
        XCTAssertThrowsError(try unet.forward(randomTensor([1, 4, 8, 8], seed: 2), timesteps: [1],
                                              context: randomTensor([1, 4, 16], seed: 1)))
    }

    func testWrongClassNameAndMissingWeightsAreErrors() throws {
        let source = try SharedData.url("fixtures/diffusers-tiny/vae")
        XCTAssertThrowsError(try UNet2DConditionModel.load(directory: source)) { error in
            XCTAssertTrue("\(error)".contains("_class_name"), "\(error)")
        }
        let directory = temporaryDirectory.appendingPathComponent("no-weights")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: SharedData.url("fixtures/diffusers-tiny/unet/config.json"),
                                         to: directory.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try UNet2DConditionModel.load(directory: directory)) { error in
            XCTAssertTrue("\(error)".contains("diffusion_pytorch_model.safetensors"), "\(error)")
        }
    }

    // MARK: files

    func testSaveLoadRoundTripIsBitExact() throws {
        let unet = try UNet2DConditionModel(config: UNet2DConditionModel.loadConfig(directory: SharedData.url("fixtures/diffusers-tiny/unet")),
                                            seed: 11)
        let directory = temporaryDirectory.appendingPathComponent("unet")
        try unet.save(directory: directory)
        let loaded = try UNet2DConditionModel.load(directory: directory)
        XCTAssertEqual(loaded.config, unet.config)
        let original = unet.namedParameters(), reloaded = loaded.namedParameters()
        XCTAssertEqual(original.map(\.key), reloaded.map(\.key))
        for (a, b) in zip(original, reloaded) {
            XCTAssertEqual(a.parameter.value.values.map(\.bitPattern), b.parameter.value.values.map(\.bitPattern), a.key)
        }
        // config.json carries diffusers' class header and every field, nulls included.
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("config.json"))) as? [String: Any]
        XCTAssertEqual(json?["_class_name"] as? String, "UNet2DConditionModel")
        XCTAssertEqual(json?["_diffusers_version"] as? String, "0.39.0")
        let fixtureJSON = try JSONSerialization.jsonObject(
            with: Data(contentsOf: SharedData.url("fixtures/diffusers-tiny/unet/config.json"))) as? [String: Any]
        XCTAssertEqual(Set(json?.keys.map { $0 } ?? []), Set(fixtureJSON?.keys.map { $0 } ?? []))
        XCTAssertTrue(json?["class_embed_type"] is NSNull)
        XCTAssertEqual((json?["norm_eps"] as? NSNumber)?.doubleValue, 1e-5)
    }

    func testHalfPrecisionSaveLoads() throws {
        let unet = try fixtureUNet()
        let directory = temporaryDirectory.appendingPathComponent("unet-f16")
        try unet.save(directory: directory, dtype: .f16)
        let loaded = try UNet2DConditionModel.load(directory: directory)
        for (a, b) in zip(unet.namedParameters(), loaded.namedParameters()) {
            let error = zip(a.parameter.value.values, b.parameter.value.values).map { abs($0 - $1) / max(abs($0), 1e-3) }.max() ?? 0
            XCTAssertLessThan(error, 1e-3, a.key)
        }
        // diffusers' fp16 variant file name loads too.
        try FileManager.default.moveItem(at: directory.appendingPathComponent("diffusion_pytorch_model.safetensors"),
                                         to: directory.appendingPathComponent("diffusion_pytorch_model.fp16.safetensors"))
        XCTAssertEqual(try UNet2DConditionModel.load(directory: directory).parameterCount, unet.parameterCount)
    }

    // MARK: training

    func testBackwardGivesFiniteGradientsAndMatchesFiniteDifference() throws {
        let unet = try fixtureUNet()
        let sample = randomTensor([2, 4, 8, 8], seed: 21), context = randomTensor([2, 5, 32], seed: 22)
        let weights = randomTensor([2, 4, 8, 8], seed: 23)
        let timesteps: [Float] = [700, 35.5]
        func loss() -> Tensor { (unet(sample, timesteps: timesteps, context: context) * weights).sum() }

        unet.zeroGrad()
        loss().backward()
        for (key, parameter) in unet.namedParameters() {
            let grad = try XCTUnwrap(parameter.grad, "no gradient for \(key)")
            XCTAssertEqual(grad.shape, parameter.shape, key)
            XCTAssertTrue(grad.values.allSatisfy(\.isFinite), key)
        }

        // Central differences (float32: ε = 1e-2, 1% relative tolerance) on the largest-gradient
        // element of a cross-attention key projection and of the time embedding.
        for key in ["down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight", "time_embedding.linear_1.weight",
                    "up_blocks.0.resnets.2.conv1.weight"] {
            let parameter = try XCTUnwrap(unet.namedParameters().first { $0.key == key }?.parameter, key)
            let grad = try XCTUnwrap(parameter.grad).values
            let index = grad.indices.max { abs(grad[$0]) < abs(grad[$1]) } ?? 0
            let pointer = parameter.value.pointer, original = pointer[index]
            let epsilon: Float = 1e-2
            let (plus, minus) = Autograd.withoutGrad { () -> (Float, Float) in
                pointer[index] = original + epsilon
                let plus = loss().item
                pointer[index] = original - epsilon
                let minus = loss().item
                pointer[index] = original
                return (plus, minus)
            }
            let numeric = (plus - minus) / (2 * epsilon)
            XCTAssertEqual(grad[index], numeric, accuracy: 1e-2 * max(abs(numeric), 1e-2), "\(key)[\(index)]")
        }
    }
}
