import Foundation
import Synchronization
public import TraplineCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Measures the process's memory every `check_interval` for a `memory_limiter` processor and
/// says whether data must be refused: from when the anonymous resident memory (heap and
/// buffers, not the mapped input files, which the kernel can drop) rises above the soft limit
/// until it falls back under it.
@_spi(Plumbing) public final class MemoryMonitor: Sendable {
    /// The processor's id.
    public let id: String
    /// The signals of the pipelines that list it.
    public let signals: Set<Signal>
    /// The limits in bytes.
    public let softLimit: Int
    public let hardLimit: Int
    private let interval: Double
    private let refusing = Atomic<Bool>(false)
    private let usage = Atomic<Int>(0)
    private let refusals = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)

    /// A monitor for `config` (the memory available is the cgroup's limit, else the
    /// machine's). Starts nothing until `start`.
    public init(id: String, config: MemoryLimiterConfig, signals: Set<Signal>) {
        self.id = id
        self.signals = signals
        let limits = config.limits(available: Self.availableMemory())
        softLimit = limits.soft
        hardLimit = limits.hard
        interval = config.checkIntervalSeconds
        measure()
    }

    /// Starts measuring on a thread of its own. Allocates the thread.
    public func start() {
        let thread = Thread { [self] in
            while !stopped.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: interval)
                measure()
            }
        }
        thread.name = "memory_limiter-\(id)"
        thread.start()
    }

    /// Stops measuring. Allocates nothing.
    public func stop() { stopped.store(true, ordering: .relaxed) }

    /// Whether data must be refused now. Allocates nothing.
    public var isRefusing: Bool { refusing.load(ordering: .relaxed) }

    /// Counts one refusal (a request answered 503, or a wait before reading). Allocates nothing.
    public func countRefusal() { refusals.add(1, ordering: .relaxed) }

    /// Measures now. Allocates nothing.
    public func measure() {
        let bytes = Self.anonymousResidentBytes()
        usage.store(bytes, ordering: .relaxed)
        refusing.store(bytes > softLimit, ordering: .relaxed)
    }

    /// Its series in the Prometheus text format. Allocates the text.
    public var exposition: String {
        let label = "processor=\"\(id)\""
        return """
            # HELP trapline_memory_limiter_refused_total Requests refused (or reads held back) while memory was above the soft limit.
            # TYPE trapline_memory_limiter_refused_total counter
            trapline_memory_limiter_refused_total{\(label)} \(refusals.load(ordering: .relaxed))
            # HELP trapline_memory_limiter_usage_bytes Anonymous resident memory at the last check.
            # TYPE trapline_memory_limiter_usage_bytes gauge
            trapline_memory_limiter_usage_bytes{\(label)} \(usage.load(ordering: .relaxed))
            # HELP trapline_memory_limiter_limit_bytes The soft and hard limits.
            # TYPE trapline_memory_limiter_limit_bytes gauge
            trapline_memory_limiter_limit_bytes{\(label),limit="soft"} \(softLimit)
            trapline_memory_limiter_limit_bytes{\(label),limit="hard"} \(hardLimit)

            """
    }

    /// `RssAnon` of /proc/self/status, in bytes.
    static func anonymousResidentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("RssAnon:") {
            let kilobytes = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first
            return (kilobytes.flatMap { Int($0) } ?? 0) * 1024
        }
        return 0
    }

    /// The cgroup v2 memory limit when there is one, else the machine's memory.
    static func availableMemory() -> Int {
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
            let limit = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            return limit
        }
        return Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
