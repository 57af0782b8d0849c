// A progress bar created on the first report, when the total becomes known.
import Pipelines

final class ProgressBarProxy {
    private let enabled: Bool
    private let label: String
    private var bar: ProgressBar?

    init(enabled: Bool, label: String) {
        self.enabled = enabled
        self.label = label
    }

    func update(_ done: Int, _ total: Int) {
        if bar == nil { bar = ProgressBar(total: total, label: label, enabled: enabled) }
        bar?.update(done, of: total)
    }
}
