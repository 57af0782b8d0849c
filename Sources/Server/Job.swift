// One queued request: its state, live progress (with each step's x̂₀ preview) and its result.
import Foundation

enum JobState: String, Sendable {
    case queued, running, done, failed, cancelled
    var isFinished: Bool { self == .done || self == .failed || self == .cancelled }
}

/// An image the job wrote into the output folder.
struct OutputImage: Sendable {
    let name: String
    let png: [UInt8]
    let width: Int
    let height: Int
}

/// What a finished job hands back.
struct JobOutput: @unchecked Sendable {
    var images: [OutputImage] = []
    /// Extra views as JSON (noise frames, trajectory and attention grids, tokens).
    var extra: [String: Any] = [:]
}

final class Job: @unchecked Sendable {
    let id: String
    let spec: JobSpec
    let created = Date()
    private let lock = NSLock()
    private var _state = JobState.queued
    private var _step = 0
    private var _steps: Int
    private var _timestep: Double?
    /// One base64 PNG of decoded x̂₀ per finished step (first image of the batch).
    private var _previews: [String] = []
    private var _output: JobOutput?
    private var _error: APIError?
    private var _position = 0
    /// When the computation started and ended (for the seconds a job took, not its wait).
    private var started: Date?
    private var ended: Date?
    private var version = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(id: String, spec: JobSpec) {
        self.id = id
        self.spec = spec
        _steps = spec.steps
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    /// Applies a change under the lock, bumps the version and wakes every waiter.
    private func update(_ change: () -> Void) {
        let woken: [CheckedContinuation<Void, Never>] = locked {
            change()
            version += 1
            defer { waiters = [] }
            return waiters
        }
        for waiter in woken { waiter.resume() }
    }

    var state: JobState { locked { _state } }
    var isCancelled: Bool { state == .cancelled }
    var output: JobOutput? { locked { _output } }
    var error: APIError? { locked { _error } }
    var progress: (step: Int, steps: Int) { locked { (_step, _steps) } }
    var latestPreview: String? { locked { _previews.last } }
    /// When the computation started (nil while queued).
    var startedAt: Date? { locked { started } }

    func setPosition(_ position: Int) { update { _position = position } }

    func markRunning() -> Bool {
        var didStart = false
        update {
            if _state == .queued {
                _state = .running
                _position = 0
                started = Date()
                didStart = true
            }
        }
        return didStart
    }

    func recordStep(_ step: Int, of steps: Int, timestep: Double, preview: String?) {
        update {
            guard _state == .running else { return }
            _step = step
            _steps = steps
            _timestep = timestep
            if let preview { _previews.append(preview) }
        }
    }

    func finish(_ output: JobOutput) {
        update {
            if _state == .running {
                _state = .done
                _output = output
                _step = _steps
                ended = Date()
            }
        }
    }

    func fail(_ error: APIError) {
        update { if !_state.isFinished { _state = .failed; _error = error } }
    }

    /// Cancels a queued or running job at once; a running one's result is dropped when its loop ends.
    @discardableResult
    func cancel() -> Bool {
        var changed = false
        update { if !_state.isFinished { _state = .cancelled; changed = true } }
        return changed
    }

    /// Returns once the job has changed since `version` (at once if it already has).
    func waitForChange(after seen: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if version > seen {
                lock.unlock()
                continuation.resume()
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }

    func waitUntilFinished() async {
        while true {
            let (seen, finished) = locked { (version, _state.isFinished) }
            if finished { return }
            await waitForChange(after: seen)
        }
    }

    /// The job as JSON with the previews from index `previewsFrom` on, and its version.
    func snapshot(previewsFrom: Int = 0, includeImages: Bool = true) -> (json: [String: Any], version: Int, previews: Int) {
        locked {
            var json: [String: Any] = ["id": id, "state": _state.rawValue, "step": _step, "steps": _steps,
                                       "position": _position, "settings": spec.summary,
                                       "created": created.timeIntervalSince1970]
            if let _timestep { json["t"] = _timestep }
            if let started { json["seconds"] = (ended ?? Date()).timeIntervalSince(started) }
            let start = min(max(previewsFrom, 0), _previews.count)
            json["previews_from"] = start
            json["previews"] = Array(_previews[start...])
            if let _error { json["error"] = ["message": _error.message, "field": _error.field ?? NSNull()] as [String: Any] }
            if let _output, includeImages {
                json["images"] = _output.images.map { ["name": $0.name, "url": "/outputs/\($0.name)", "width": $0.width,
                                                       "height": $0.height] as [String: Any] }
                for (key, value) in _output.extra { json[key] = value }
            }
            return (json, version, _previews.count)
        }
    }
}
