// Progress on stderr: steps, rate and time left — a redrawn bar on a terminal, and a plain
// line every half minute in a log file.
import Foundation

public final class ProgressBar {
    private var total: Int
    private let label: String
    private let start = Date()
    private let enabled: Bool
    private var lastDraw = Date.distantPast
    /// Smoothed seconds per unit, so the estimate follows the current pace, not the average.
    private var secondsPerUnit: Double?
    private var lastDone = 0
    private let interactive = isatty(STDERR_FILENO) != 0

    public init(total: Int, label: String, enabled: Bool = true) {
        self.total = total
        self.label = label
        self.enabled = enabled
    }

    /// Reports `done` of `total` units (the total may be corrected as work reveals it, e.g.
    /// PNDM's extra warm-up step), with an optional extra (e.g. "loss 0.0231").
    public func update(_ done: Int, of newTotal: Int? = nil, extra: String = "") {
        guard enabled else { return }
        if let newTotal { total = newTotal }
        let done = min(max(done, 0), total)
        let now = Date()
        guard done >= total || now.timeIntervalSince(lastDraw) > (interactive ? 0.1 : 30) else { return }
        defer { lastDraw = now }
        let elapsed = now.timeIntervalSince(start)
        let interval = now.timeIntervalSince(lastDraw == .distantPast ? start : lastDraw)
        if done > lastDone {
            let recent = interval / Double(done - lastDone)
            secondsPerUnit = secondsPerUnit.map { 0.8 * $0 + 0.2 * recent } ?? recent
            lastDone = done
        }
        let rate = secondsPerUnit.map { $0 > 0 ? 1 / $0 : 0 } ?? 0
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        let width = 24
        let filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let rateText = rate >= 1 ? String(format: "%.2f it/s", rate) : String(format: "%.2f s/it", rate > 0 ? 1 / rate : 0)
        var line = "\(label) \(bar) \(done)/\(total) \(rateText) \(Self.format(elapsed)) elapsed, \(Self.format(remaining)) left"
        if !extra.isEmpty { line += " · \(extra)" }
        let text = interactive ? "\r" + line + "\u{1B}[K" + (done >= total ? "\n" : "") : line + "\n"
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func format(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
