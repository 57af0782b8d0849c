// The image argument of noise, encode and denoise, with the optional square resize before use.
import ArgumentParser
import Foundation
import Imaging

struct ImageInput: ParsableArguments {
    @Argument(help: "The image (PNG or JPEG).")
    var image: String

    @Option(help: "Resize and centre-crop to this square size first.")
    var size: Int?

    func validate() throws {
        if let size, size < 1 { throw ValidationError("--size must be positive, got \(size)") }
    }

    /// The decoded image, resized to `--size` when given.
    func load() throws -> Image {
        let picture = try Image.load(from: URL(fileURLWithPath: image))
        guard let size else { return picture }
        return try picture.resizedToFill(width: size, height: size)
    }
}
