// Matches diffusers AutoencoderKL: encoder → quant_conv → diagonal Gaussian; post_quant_conv → decoder.
import NN
import TensorCore

public final class AutoencoderKL: Module {
    public let config: AutoencoderKLConfig
    public let encoder: VAEEncoder
    public let decoder: VAEDecoder
    public let quantConv: Conv2d?
    public let postQuantConv: Conv2d?

    /// A model with fresh seeded weights (PyTorch's default init; norms 1 and 0); zeros without a seed.
    public init(config: AutoencoderKLConfig, seed: UInt64? = 0) throws {
        try config.validate()
        let activation = try config.activation()
        var initializer = Initializer(seed: seed)
        self.config = config
        encoder = VAEEncoder(config: config, activation: activation, initializer: &initializer)
        decoder = VAEDecoder(config: config, activation: activation, initializer: &initializer)
        let moments = 2 * config.latentChannels
        quantConv = config.useQuantConv ? Conv2d(moments, moments, kernelSize: 1, initializer: &initializer) : nil
        postQuantConv = config.usePostQuantConv
            ? Conv2d(config.latentChannels, config.latentChannels, kernelSize: 1, initializer: &initializer) : nil
    }

    public var children: [(String, Module)] {
        var list: [(String, Module)] = [("encoder", encoder), ("decoder", decoder)]
        if let quantConv { list.append(("quant_conv", quantConv)) }
        if let postQuantConv { list.append(("post_quant_conv", postQuantConv)) }
        return list
    }

    /// Pixels per latent along each side (2^(number of down blocks − 1)).
    public var downsamplingFactor: Int { 1 << (config.blockOutChannels.count - 1) }

    /// Throws unless `x` is an image batch `encode` accepts: [N, in_channels, H, W] with H and W at
    /// least the downsampling factor (each downsampler pads by one, then a 3×3 stride-2 conv).
    /// Call it on anything derived from user input before `encode`.
    public func validateImages(_ x: Tensor) throws {
        guard x.rank == 4, x.shape[1] == config.inChannels, x.shape[0] > 0 else {
            throw AutoencoderKLError.badInput("encode expects [N, \(config.inChannels), H, W], got \(x.shape)")
        }
        guard x.shape[2] >= downsamplingFactor, x.shape[3] >= downsamplingFactor else {
            throw AutoencoderKLError.badInput("encode needs H and W of at least \(downsamplingFactor), got \(x.shape)")
        }
    }

    /// Throws unless `z` is a latent batch `decode` accepts: [N, latent_channels, h, w], h, w ≥ 1.
    public func validateLatents(_ z: Tensor) throws {
        guard z.rank == 4, z.shape[1] == config.latentChannels, z.shape[0] > 0, z.shape[2] > 0, z.shape[3] > 0 else {
            throw AutoencoderKLError.badInput("decode expects [N, \(config.latentChannels), h, w], got \(z.shape)")
        }
    }

    /// The posterior of image `x` [N, in_channels, H, W] in [-1, 1] (see `validateImages`): mean and
    /// logvar [N, latent, ⌈H/f⌉, ⌈W/f⌉], logvar clamped to [-30, 20] (DiagonalGaussianDistribution).
    public func encode(_ x: Tensor) -> (mean: Tensor, logvar: Tensor) {
        var moments = encoder(x)                       // [N, 2·latent, h, w]
        if let quantConv { moments = quantConv(moments) }
        let parts = moments.chunk(2, axis: 1)
        return (parts[0], parts[1].clamped(-30, 20))
    }

    /// A posterior sample: mean + exp(logvar / 2) · noise (all [N, latent, h, w]).
    public func sample(mean: Tensor, logvar: Tensor, noise: Tensor) -> Tensor {
        mean + (logvar * 0.5).exp() * noise
    }

    /// KL(posterior ‖ N(0, I)) per batch item: 0.5·Σ(mean² + var − 1 − logvar) over C, H, W → [N].
    public static func klDivergence(mean: Tensor, logvar: Tensor) -> Tensor {
        ((mean.square() + logvar.exp() - logvar - 1) * 0.5).sum(axes: [1, 2, 3])
    }

    /// Decodes latents z [N, latent, h, w] (see `validateLatents`; unscaled: divide by
    /// scaling_factor first, see `unscaleLatents`) → image [N, out_channels, h·f, w·f], unclamped.
    public func decode(_ z: Tensor) -> Tensor {
        decoder(postQuantConv.map { $0(z) } ?? z)
    }

    /// VAE latents → the diffusion model's latent space: (z − shift_factor) · scaling_factor.
    public func scaleLatents(_ z: Tensor) -> Tensor {
        (config.shiftFactor.map { z - Float($0) } ?? z) * Float(config.scalingFactor)
    }

    /// The diffusion model's latents → VAE latents: z / scaling_factor + shift_factor.
    public func unscaleLatents(_ z: Tensor) -> Tensor {
        let scaled = z / Float(config.scalingFactor)
        return config.shiftFactor.map { scaled + Float($0) } ?? scaled
    }
}

public enum AutoencoderKLError: Error, CustomStringConvertible {
    case badInput(String)
    public var description: String {
        switch self {
        case .badInput(let s): return "AutoencoderKL: \(s)"
        }
    }
}
