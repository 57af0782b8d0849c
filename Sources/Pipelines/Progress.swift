// Progress on stderr: steps, rate and time left — a redrawn bar on a terminal, and a plain
// line every half minute in a log file.
import Foundation

public final class ProgressBar {
    private var total: Int
    private let label: String
    private let enabled: Bool
    private let interactive: Bool
    private let clock: () -> Date
    private let write: (String) -> Void
    private let start: Date
    private var lastDraw = Date.distantPast
    /// Where the rate was last measured from: work done before this bar (a resumed run's
    /// steps) is not counted as done in no time.
    private var lastMeasure: (done: Int, time: Date)
    /// Smoothed seconds per unit, so the estimate follows the current pace, not the average:
    /// each unit's weight is 0.2, however many a redraw covers (one on a terminal, dozens
    /// between a log's lines), so a slow first step fades within a few units.
    private var secondsPerUnit: Double?

    /// A bar for `total` units, `startingAt` of them already done (a resumed run).
    public convenience init(total: Int, label: String, enabled: Bool = true, startingAt done: Int = 0) {
        self.init(total: total, label: label, enabled: enabled, startingAt: done,
                  interactive: isatty(STDERR_FILENO) != 0, clock: Date.init,
                  write: { FileHandle.standardError.write(Data($0.utf8)) })
    }

    init(total: Int, label: String, enabled: Bool, startingAt done: Int, interactive: Bool,
         clock: @escaping () -> Date, write: @escaping (String) -> Void) {
        self.total = total
        self.label = label
        self.enabled = enabled
        self.interactive = interactive
        self.clock = clock
        self.write = write
        start = clock()
        lastMeasure = (done, start)
    }

    /// Reports `done` of `total` units (the total may be corrected as work reveals it, e.g.
    /// PNDM's extra warm-up step), with an optional extra (e.g. "loss 0.0231").
    public func update(_ done: Int, of newTotal: Int? = nil, extra: String = "") {
        guard enabled else { return }
        if let newTotal { total = newTotal }
        let done = min(max(done, 0), total)
        let now = clock()
        guard done >= total || now.timeIntervalSince(lastDraw) > (interactive ? 0.1 : 30) else { return }
        lastDraw = now
        if done > lastMeasure.done {
            let interval = now.timeIntervalSince(lastMeasure.time)
            let recent = interval / Double(done - lastMeasure.done)
            let weight = 1 - pow(0.8, Double(done - lastMeasure.done))
            secondsPerUnit = secondsPerUnit.map { (1 - weight) * $0 + weight * recent } ?? recent
            lastMeasure = (done, now)
        }
        let remaining = secondsPerUnit.map { Double(total - done) * $0 } ?? 0
        let width = 24
        let filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        var line = "\(label) \(bar) \(done)/\(total) \(Self.rate(secondsPerUnit ?? 0)) "
            + "\(Self.format(now.timeIntervalSince(start))) elapsed, \(Self.format(remaining)) left"
        if !extra.isEmpty { line += " · \(extra)" }
        write(interactive ? "\r" + line + "\u{1B}[K" + (done >= total ? "\n" : "") : line + "\n")
    }

    static func rate(_ secondsPerUnit: Double) -> String {
        secondsPerUnit > 0 && secondsPerUnit <= 1 ? String(format: "%.2f it/s", 1 / secondsPerUnit)
            : String(format: "%.2f s/it", secondsPerUnit)
    }

    static func format(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
