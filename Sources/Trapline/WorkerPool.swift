import Foundation

/// Long-lived worker threads that run one job at a time, each taking its share of the job's
/// items, while the caller does other work. Dispatch's `concurrentPerform` only borrows idle
/// pool threads, and with the replaying thread busy merging it often ran a window's shares one
/// after the other; dedicated threads run them side by side.
///
/// `@unchecked Sendable`: the job and its state are handed over through semaphores, which
/// order every access.
final class WorkerPool: @unchecked Sendable {
    private let workers: Int
    private let start: [DispatchSemaphore]
    private let done = DispatchSemaphore(value: 0)
    private var job: (@Sendable (Int) -> Void)?
    private var stopping = false

    /// Starts `workers` threads.
    init(workers: Int) {
        self.workers = workers
        start = (0..<workers).map { _ in DispatchSemaphore(value: 0) }
        for worker in 0..<workers {
            // Each loop holds the pool until it leaves (after `shutDown`); it blocks its
            // Dispatch thread for the pool's lifetime, which is what dedicated means here.
            DispatchQueue.global().async { self.loop(worker) }
        }
    }

    private func loop(_ worker: Int) {
        while true {
            start[worker].wait()
            if stopping { return }
            job?(worker)
            done.signal()
        }
    }

    /// Starts `job` on every worker (it receives the worker's index) and returns at once.
    func begin(_ job: @escaping @Sendable (Int) -> Void) {
        self.job = job
        for semaphore in start { semaphore.signal() }
    }

    /// Waits until every worker has finished the job begun last.
    func wait() {
        for _ in 0..<workers { done.wait() }
        job = nil
    }

    /// Ends the threads (after the last job finished).
    func shutDown() {
        stopping = true
        for semaphore in start { semaphore.signal() }
    }
}
