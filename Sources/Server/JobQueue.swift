// The job queue: one job computes at a time on a thread of its own; the rest wait in order.
import Foundation

/// Thrown by a job's work when the job was cancelled while it ran (nothing is written).
struct JobCancelled: Error {}

final class JobQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var waiting: [Job] = []
    private var running: Job?
    private var jobs: [String: Job] = [:]
    /// Finished jobs, oldest first; only the newest `keepFinished` are kept for lookups.
    private var finished: [String] = []
    private let keepFinished = 32
    private let maxQueued: Int
    private var counter = 0
    private let work: (Job) throws -> JobOutput
    private(set) var completed = 0

    /// `work` runs on the queue's thread, one job at a time.
    init(maxQueued: Int, work: @escaping (Job) throws -> JobOutput) {
        self.maxQueued = maxQueued
        self.work = work
    }

    /// Starts the worker thread (a plain thread: model work must not block Swift's concurrency pool).
    func start() {
        let thread = Thread { [self] in loop() }
        thread.name = "diffuse-jobs"
        thread.stackSize = 16 << 20
        thread.start()
    }

    func submit(_ spec: JobSpec) throws -> Job {
        condition.lock()
        defer { condition.unlock() }
        guard waiting.count < maxQueued else {
            throw APIError(.serviceUnavailable, "the queue is full (\(maxQueued) jobs waiting); try again later")
        }
        counter += 1
        let job = Job(id: String(format: "%@%04d", Self.sessionTag, counter), spec: spec)
        jobs[job.id] = job
        waiting.append(job)
        job.setPosition(waiting.count)
        condition.signal()
        return job
    }

    /// Jobs of one server run get ids no earlier run used, so file names never collide.
    private static let sessionTag: String = {
        let letters = Array("abcdefghijkmnpqrstuvwxyz")
        return String((0..<4).map { _ in letters[Int.random(in: 0..<letters.count)] })
    }()

    func job(_ id: String) -> Job? {
        condition.lock()
        defer { condition.unlock() }
        return jobs[id]
    }

    var current: Job? {
        condition.lock()
        defer { condition.unlock() }
        return running
    }

    /// Waiting and running jobs, running first.
    var active: [Job] {
        condition.lock()
        defer { condition.unlock() }
        return (running.map { [$0] } ?? []) + waiting
    }

    var counts: (waiting: Int, running: Int, completed: Int, tracked: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (waiting.count, running == nil ? 0 : 1, completed, jobs.count)
    }

    /// Cancels a queued job (removed from the line) or a running one (its result is dropped).
    func cancel(_ id: String) -> Job? {
        condition.lock()
        guard let job = jobs[id] else { condition.unlock(); return nil }
        if let index = waiting.firstIndex(where: { $0 === job }) {
            waiting.remove(at: index)
            retire(job)
        }
        let line = waiting
        condition.unlock()
        job.cancel()
        renumber(line)
        return job
    }

    /// Positions: 1 is next after the running job.
    private func renumber(_ line: [Job]) {
        for (index, job) in line.enumerated() { job.setPosition(index + 1) }
    }

    /// Call with the lock held.
    private func retire(_ job: Job) {
        finished.append(job.id)
        completed += 1
        while finished.count > keepFinished {
            jobs[finished.removeFirst()] = nil
        }
    }

    private func loop() {
        while true {
            condition.lock()
            while waiting.isEmpty { condition.wait() }
            let job = waiting.removeFirst()
            running = job
            let line = waiting
            condition.unlock()
            renumber(line)
            if job.markRunning() {
                do {
                    let output = try work(job)
                    if job.isCancelled { throw JobCancelled() }
                    job.finish(output)
                } catch is JobCancelled {
                    job.cancel()
                } catch let error as APIError {
                    job.fail(error)
                } catch {
                    job.fail(APIError(.unprocessableContent, "\(error)"))
                }
            }
            condition.lock()
            running = nil
            retire(job)
            condition.unlock()
        }
    }
}
