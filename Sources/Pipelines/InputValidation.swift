// Checks on what enters a pipeline (latents, images, guidance) before any of it reaches the
// engine: shapes, sizes within the pixel limit, finite values.
import FileIO
import Foundation
import Models
import TensorCore

extension SamplingDefaults {
    /// The largest guidance scale a request may ask for: far above any useful value (diffusers'
    /// examples stay under 20), low enough that guided predictions stay finite in float32.
    public static let maximumGuidance: Float = 100

    /// Throws unless `guidance` is a finite number in 0...maximumGuidance (1 or less: unguided).
    public static func validateGuidance(_ guidance: Float) throws {
        guard guidance.isFinite, guidance >= 0, guidance <= maximumGuidance else {
            throw PipelineError.invalidField("guidance", reason: "must be a number from 0 to \(Int(maximumGuidance)), got \(guidance)")
        }
    }
}

extension StableDiffusion {
    /// Throws unless `latents` are [N, C, h, w] with N, h, w ≥ 1, C the U-Net's channels, an image
    /// size within the pixel limit, and finite values; `source` names them in the message.
    public func validateLatents(_ latents: Tensor, source: String = "latents") throws {
        let s = latents.shape
        guard s.count == 4, s[1] == latentChannels, s[0] >= 1, s[2] >= 1, s[3] >= 1 else {
            throw PipelineError.invalidArgument("\(source) have shape \(s), expected [N, \(latentChannels), h, w] with N, h and w at least 1")
        }
        try checkPixels(width: s[3] * vaeScaleFactor, height: s[2] * vaeScaleFactor)
        try Self.requireFinite(latents, source)
    }

    /// Throws unless `images` are [N, 3, H, W] with N ≥ 1, H and W at least the VAE's factor
    /// (one latent), within the pixel limit, and finite.
    public func validateImages(_ images: Tensor, source: String = "the image") throws {
        let s = images.shape
        guard s.count == 4, s[0] >= 1, s[1] == 3 else {
            throw PipelineError.invalidArgument("\(source) has shape \(s), expected [N, 3, H, W]")
        }
        guard s[2] >= vaeScaleFactor, s[3] >= vaeScaleFactor else {
            throw PipelineError.invalidArgument("\(source) is \(s[3])×\(s[2]) pixels; this model's VAE needs at least "
                                                + "\(vaeScaleFactor)×\(vaeScaleFactor) (pass --size to resize it)")
        }
        try checkPixels(width: s[3], height: s[2])
        try Self.requireFinite(images, source)
    }

    /// A one-line note when an image has far more pixels than the model's native size: every
    /// encode, U-Net step and decode then costs about that many times more (img2img of a photo).
    public func sizeNote(width: Int, height: Int) -> String? {
        let native = nativeSize
        let (nativePixels, overflow) = native.multipliedReportingOverflow(by: native)
        guard !overflow, nativePixels > 0, width.multipliedReportingOverflow(by: height).partialValue > 16 * nativePixels else { return nil }
        let ratio = Double(width) * Double(height) / Double(nativePixels)
        return String(format: "the image is %d×%d, %.0f× the pixels of this model's native %d×%d: each step costs about that much "
                      + "more; resize it first for the model's own speed", width, height, ratio, native, native)
    }

    /// The pixel limit as a pipeline error.
    func checkPixels(width: Int, height: Int) throws {
        do { try ResourceLimits.checkImageSize(width: width, height: height) } catch let error as InputError {
            throw PipelineError.invalidSize(error.description)
        }
    }

    static func requireFinite(_ tensor: Tensor, _ source: String) throws {
        let values = UnsafeBufferPointer(start: tensor.pointer, count: tensor.count)
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw PipelineError.invalidArgument("\(source) hold a non-finite value (\(values[bad]) at flat index \(bad))")
        }
    }
}
