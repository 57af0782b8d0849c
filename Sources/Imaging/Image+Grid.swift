// Image grids: several images tiled in rows and columns (for sample sheets).

extension Image {
    /// Tiles `images` left to right, top to bottom, `columns` per row. Each cell is as large as
    /// the largest image; smaller images are centred. `padding` pixels of `background` separate
    /// cells and surround the grid. RGBA if any input has alpha, else RGB.
    public static func grid(_ images: [Image], columns: Int, padding: Int = 0,
                            background: [UInt8] = [255, 255, 255]) throws -> Image {
        guard !images.isEmpty else { throw ImageError.invalidArgument("a grid needs at least one image") }
        guard columns > 0 else { throw ImageError.invalidArgument("grid columns must be positive, got \(columns)") }
        guard padding >= 0 else { throw ImageError.invalidArgument("grid padding must not be negative, got \(padding)") }
        let channels = images.contains { $0.channels == 4 } ? 4 : 3
        guard background.count == 3 || background.count == 4 else {
            throw ImageError.invalidArgument("grid background needs 3 or 4 components, got \(background.count)")
        }
        let fill = channels == 4 ? Array(background.prefix(3)) + [background.count == 4 ? background[3] : 255]
                                 : Array(background.prefix(3))
        let cellWidth = images.map(\.width).max() ?? 1, cellHeight = images.map(\.height).max() ?? 1
        let usedColumns = min(columns, images.count)
        let rows = (images.count + columns - 1) / columns
        let width = usedColumns * cellWidth + (usedColumns + 1) * padding
        let height = rows * cellHeight + (rows + 1) * padding
        var canvas = try Image(width: width, height: height, channels: channels, color: fill)
        for (index, image) in images.enumerated() {
            let column = index % columns, row = index / columns
            let x = padding + column * (cellWidth + padding) + (cellWidth - image.width) / 2
            let y = padding + row * (cellHeight + padding) + (cellHeight - image.height) / 2
            canvas.paste(image, x: x, y: y)
        }
        return canvas
    }
}
