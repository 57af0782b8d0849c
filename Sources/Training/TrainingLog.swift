// Training records: a CSV of every step and a loss-curve PNG redrawn as training goes.
import Foundation
import Imaging

public final class TrainingLog {
    public let csvURL: URL
    public let curveURL: URL
    public private(set) var losses: [(step: Int, loss: Double)] = []
    /// The `seconds` column of earlier runs, by step, so a resumed run's clock goes on from them.
    private var secondsByStep: [Int: Double] = [:]

    /// Opens `DIR/NAME.csv` (kept from earlier runs when resuming) and `DIR/NAME-loss.png`.
    public init(directory: URL, name: String, columns: [String], resuming: Bool) throws {
        csvURL = directory.appendingPathComponent("\(name).csv")
        curveURL = directory.appendingPathComponent("\(name)-loss.png")
        if resuming, let text = try? String(contentsOf: csvURL, encoding: .utf8) {
            let lines = text.split(separator: "\n")
            let secondsColumn = lines.first?.split(separator: ",").firstIndex(of: "seconds")
            for line in lines.dropFirst() {
                let fields = line.split(separator: ",")
                guard fields.count > 1, let step = Int(fields[0]), let loss = Double(fields[1]) else { continue }
                losses.append((step, loss))
                if let column = secondsColumn, column < fields.count, let seconds = Double(fields[column]) {
                    secondsByStep[step] = seconds
                }
            }
        } else {
            try (columns.joined(separator: ",") + "\n").write(to: csvURL, atomically: true, encoding: .utf8)
        }
    }

    /// Training time logged up to `step` by earlier runs (0 when none): where a run resumed
    /// from that step's checkpoint starts its clock.
    public func loggedSeconds(atStep step: Int) -> Double { secondsByStep[step] ?? 0 }

    /// Appends one row: step, loss, then any further columns.
    public func record(step: Int, loss: Double, extra: [String]) throws {
        if let last = losses.last, last.step >= step { try dropRows(from: step) }
        losses.append((step, loss))
        let handle = try FileHandle(forWritingTo: csvURL)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((["\(step)", String(format: "%.6f", loss)] + extra).joined(separator: ",").utf8 + [10]))
    }

    /// A run resumed from a checkpoint redoes the steps logged after it: their rows go.
    func dropRows(from step: Int) throws {
        losses.removeAll { $0.step >= step }
        let text = try String(contentsOf: csvURL, encoding: .utf8)
        let kept = text.split(separator: "\n").enumerated().filter { index, line in
            index == 0 || (line.split(separator: ",").first.flatMap { Int($0) }.map { $0 < step } ?? false)
        }
        try (kept.map { String($0.element) }.joined(separator: "\n") + "\n").write(to: csvURL, atomically: true, encoding: .utf8)
    }

    /// Redraws the loss curve (log scale, raw and smoothed).
    public func drawCurve(title: String) throws {
        try LossCurve.render(losses, title: title).writePNG(to: curveURL)
    }
}

enum LossCurve {
    /// A 640×360 plot of loss against step on a log axis, with the moving average on top.
    static func render(_ points: [(step: Int, loss: Double)], title: String) throws -> Image {
        let (w, h, left, right, top, bottom) = (640, 360, 56, 16, 24, 28)
        var image = try Image(width: w, height: h, channels: 3, color: [255, 255, 255])
        BitmapFont.draw(title, on: &image, x: left, y: 8, color: [0, 0, 0])
        let valid = points.filter { $0.loss > 0 && $0.loss.isFinite }
        guard let first = valid.first, let last = valid.last, valid.count > 1 else { return image }
        let logs = valid.map { Foundation.log10($0.loss) }
        let (lo, hi) = (logs.min()!, max(logs.max()!, logs.min()! + 1e-3))
        let span = Double(max(1, last.step - first.step))
        func px(_ step: Int) -> Int { left + Int(Double(step - first.step) / span * Double(w - left - right - 1)) }
        func py(_ logValue: Double) -> Int { top + Int((hi - logValue) / (hi - lo) * Double(h - top - bottom - 1)) }
        // Axes, and decade labels on the loss axis.
        for y in top..<(h - bottom) { image.setPixel(x: left - 1, y: y, color: [0, 0, 0]) }
        for x in (left - 1)..<(w - right) { image.setPixel(x: x, y: h - bottom, color: [0, 0, 0]) }
        for tick in [lo, (lo + hi) / 2, hi] {
            let y = py(tick)
            for x in (left - 4)..<(left - 1) { image.setPixel(x: x, y: y, color: [0, 0, 0]) }
            BitmapFont.draw(String(format: "%.3g", Foundation.pow(10, tick)), on: &image, x: 2, y: y - 3, color: [0, 0, 0])
        }
        BitmapFont.draw("step \(first.step)", on: &image, x: left, y: h - bottom + 6, color: [0, 0, 0])
        let endLabel = "step \(last.step)"
        BitmapFont.draw(endLabel, on: &image, x: w - right - BitmapFont.width(of: endLabel), y: h - bottom + 6, color: [0, 0, 0])
        // Raw losses in light blue, a moving average in dark blue.
        for (point, value) in zip(valid, logs) { image.setPixel(x: px(point.step), y: py(value), color: [160, 190, 240]) }
        let window = max(1, valid.count / 50)
        var previous: (Int, Int)?
        for i in stride(from: 0, to: valid.count, by: max(1, window / 2)) {
            let slice = logs[max(0, i - window)...min(logs.count - 1, i + window)]
            let point = (px(valid[i].step), py(slice.reduce(0, +) / Double(slice.count)))
            if let p = previous { drawLine(&image, from: p, to: point, color: [20, 60, 160]) }
            previous = point
        }
        return image
    }

    static func drawLine(_ image: inout Image, from a: (Int, Int), to b: (Int, Int), color: [UInt8]) {
        let steps = max(abs(b.0 - a.0), abs(b.1 - a.1), 1)
        for s in 0...steps {
            let x = a.0 + (b.0 - a.0) * s / steps, y = a.1 + (b.1 - a.1) * s / steps
            image.setPixel(x: x, y: y, color: color)
            image.setPixel(x: x, y: y + 1, color: color)
        }
    }
}
