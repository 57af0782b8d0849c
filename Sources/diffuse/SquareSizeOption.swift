// `--size`: resize and centre-crop an input image to a square before use.
import ArgumentParser
import Imaging

struct SquareSizeOption: ParsableArguments {
    @Option(help: "Resize and centre-crop an image input to this square size first.")
    var size: Int?

    func validate() throws {
        if let size, size < 1 { throw ValidationError("--size must be positive, got \(size)") }
    }

    /// `image` resized to `--size` when given.
    func apply(to image: Image) throws -> Image {
        guard let size else { return image }
        return try image.resizedToFill(width: size, height: size)
    }
}
