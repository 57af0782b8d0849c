// Conversions between 8-bit images and [-1, 1] NCHW tensors.
import Foundation
import Imaging
import TensorCore

extension Tensor {
    /// An RGB image as [1, 3, H, W] in [-1, 1] (alpha composited on white).
    public init(image: Image) throws {
        try self.init(shape: [1, 3, image.height, image.width], values: image.floatPlanes())
    }

    /// Images as one batch [N, 3, H, W]; all must share one size.
    public init(images: [Image]) throws {
        guard let first = images.first, images.allSatisfy({ $0.width == first.width && $0.height == first.height }) else {
            throw PipelineError.invalidArgument("a batch needs images of one size")
        }
        try self.init(shape: [images.count, 3, first.height, first.width], values: images.flatMap { $0.floatPlanes() })
    }

    /// Item `index` of an [N, 3, H, W] batch in [-1, 1] as an 8-bit RGB image (clamped, rounded).
    public func image(at index: Int = 0) throws -> Image {
        let (h, w) = (shape[2], shape[3])
        let plane = 3 * h * w
        let values = Array(UnsafeBufferPointer(start: pointer + index * plane, count: plane))
        return try Image(planarRGB: values, width: w, height: h)
    }

    /// Every item of an [N, 3, H, W] batch as images.
    public func images() throws -> [Image] { try (0..<shape[0]).map { try image(at: $0) } }
}
