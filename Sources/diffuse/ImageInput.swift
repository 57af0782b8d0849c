// The image argument of noise, encode, img2img and inpaint, with the optional square resize before use.
import ArgumentParser
import Foundation
import Imaging

struct ImageInput: ParsableArguments {
    @Argument(help: "The image (PNG or JPEG).")
    var image: String

    @OptionGroup var resize: SquareSizeOption

    /// The decoded image, resized to `--size` when given.
    func load() throws -> Image {
        try resize.apply(to: Image.load(from: URL(fileURLWithPath: image)))
    }
}
