// Pictures that explain a run: labelled grids of denoising trajectories and noise ladders.
import Foundation
import Imaging
import TensorCore

public enum Visualization {
    /// The side, in pixels, that small images are enlarged to so labels and detail stay legible.
    public static let displaySize = 96

    /// An image enlarged (never shrunk) so its longer side is at least `displaySize`.
    public static func enlarged(_ image: Image) throws -> Image {
        let factor = max(1, (displaySize + max(image.width, image.height) - 1) / max(image.width, image.height))
        return factor == 1 ? image : try image.resized(width: image.width * factor, height: image.height * factor)
    }

    /// Labelled tiles in a grid of `columns`.
    public static func labelledGrid(_ tiles: [(Image, String)], columns: Int) throws -> Image {
        let labelled = try tiles.map { try enlarged($0.0).labelled($0.1, bandHeight: 11) }
        return try Image.grid(labelled, columns: max(1, min(columns, labelled.count)), padding: 2)
    }
}

extension StableDiffusion {
    /// The model's guess of the clean image (decoded x̂₀ of the first batch item) after each
    /// step, labelled with the step and its timestep.
    public func trajectoryGrid(_ steps: [DenoisingStep]) throws -> Image {
        var tiles: [(Image, String)] = []
        for step in steps {
            guard let original = step.predictedOriginal else { continue }
            let first = original.slice(axis: 0, start: 0, length: 1)
            tiles.append((try decode(latents: first).image(), "\(step.index + 1) t\(Int(step.timestep.rounded()))"))
        }
        return try Visualization.labelledGrid(tiles, columns: min(10, tiles.count))
    }
}
