// Cross-attention maps (the DAAM approach): for each prompt token, where the U-Net's
// cross-attention looked, averaged over heads, layers and steps.
import Foundation
import Imaging
import Models
import NN
import TensorCore

public final class CrossAttentionMaps: AttentionProbe {
    let latentHeight: Int, latentWidth: Int
    /// With guidance the batch is [negative…, positive…]: only the positive half counts.
    let positiveHalfOnly: Bool
    /// Summed attention per key token over latent pixels: [tokens][h·w].
    private(set) var sums: [[Float]] = []
    private(set) var observations = 0

    public init(latentHeight: Int, latentWidth: Int, guided: Bool) {
        self.latentHeight = latentHeight
        self.latentWidth = latentWidth
        positiveHalfOnly = guided
    }

    public func observe(queries: Tensor, keys: Tensor, heads: Int, scale: Float) {
        let (batchHeads, length, tokens) = (queries.shape[0], queries.shape[1], keys.shape[1])
        let batch = batchHeads / heads
        // The layer's resolution: latents downsampled by an integer factor.
        let factor = max(1, Int((Double(latentHeight * latentWidth) / Double(length)).squareRoot().rounded()))
        let (h, w) = (latentHeight / factor, latentWidth / factor)
        guard h * w == length else { return }
        if sums.isEmpty { sums = Array(repeating: Array(repeating: 0, count: latentHeight * latentWidth), count: tokens) }
        let items = positiveHalfOnly ? (batch / 2)..<batch : 0..<batch
        let selected = queries.slice(axis: 0, start: items.lowerBound * heads, length: items.count * heads)
        let selectedKeys = keys.slice(axis: 0, start: items.lowerBound * heads, length: items.count * heads)
        // [items·heads, L, S] probabilities, averaged over items and heads → [L, S].
        let probabilities = (Tensor.matmul(selected, selectedKeys, transposeB: true) * scale).softmax()
        let mean = probabilities.mean(axes: [0]).values
        for y in 0..<latentHeight {
            for x in 0..<latentWidth {
                let row = ((y / factor) * w + x / factor) * tokens
                for s in 0..<tokens { sums[s][y * latentWidth + x] += mean[row + s] }
            }
        }
        observations += 1
    }

    /// The map of token `index` normalised to [0, 1], [h·w].
    public func map(token index: Int) -> [Float] {
        guard sums.indices.contains(index) else { return [] }
        let values = sums[index]
        let high = max(values.max() ?? 0, 1e-12)
        return values.map { $0 / high }
    }

    /// One heat-map overlay per token on `image`, labelled with the token.
    public func overlays(on image: Image, tokens: [(index: Int, text: String)]) throws -> Image {
        var tiles: [(Image, String)] = [(image, "image")]
        let base = try Visualization.enlarged(image)
        for (index, text) in tokens {
            let gray = map(token: index).map { UInt8(($0 * 255).rounded()) }
            let small = try Image(width: latentWidth, height: latentHeight, channels: 3, pixels: gray.flatMap { [$0, $0, $0] })
            let heat = try small.resized(width: base.width, height: base.height)
            var overlay = base
            for p in 0..<(base.width * base.height) {
                let v = Float(heat.pixels[p * 3]) / 255
                let color = Self.heatColor(v)
                for c in 0..<3 {
                    let mixed = 0.45 * Float(base.pixels[p * base.channels + c]) + 0.55 * color[c]
                    overlay.pixels[p * base.channels + c] = UInt8(min(255, max(0, mixed.rounded())))
                }
            }
            tiles.append((overlay, text))
        }
        return try Visualization.labelledGrid(tiles, columns: min(8, tiles.count))
    }

    /// Blue (0) → cyan → yellow → red (1).
    static func heatColor(_ v: Float) -> [Float] {
        let t = min(max(v, 0), 1)
        if t < 0.33 { return [0, 255 * t / 0.33, 255] }
        if t < 0.66 { return [255 * (t - 0.33) / 0.33, 255, 255 * (1 - (t - 0.33) / 0.33)] }
        return [255, 255 * (1 - (t - 0.66) / 0.34), 0]
    }
}

extension StableDiffusion {
    /// Attaches `maps` to every cross-attention layer of the U-Net while `body` runs.
    public func withAttentionMaps<T>(_ maps: CrossAttentionMaps, _ body: () throws -> T) rethrows -> T {
        let layers = unet.attentionLayers(named: "attn2")
        for (_, layer) in layers { layer.probe = maps }
        defer { for (_, layer) in layers { layer.probe = nil } }
        return try body()
    }

    /// The prompt's word tokens (no BOS, EOS or padding) with their positions, as readable text.
    public func promptTokens(_ prompt: String) -> [(index: Int, text: String)] {
        let tokens = tokenizer.tokens(for: prompt)
        let limit = min(tokens.count - 1, textEncoder.config.maxPositionEmbeddings - 1)
        guard limit > 1 else { return [] }
        return (1..<limit).map { ($0, tokens[$0].replacingOccurrences(of: "</w>", with: "")) }
    }
}
