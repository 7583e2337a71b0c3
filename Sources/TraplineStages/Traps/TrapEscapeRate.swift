/// The Trap Escape Rate as DESIGN.md defines it:
/// `TER = blocked trap events / (observed time window × potential trap density)`.
///
/// The window is event time (first to last timestamp seen), so a replay gives what live processing gives.
/// The density (events per second) is configured per pipeline; without it, it is estimated from every trap
/// identified, blocked or not, over the same window, which makes TER the blocked share. Counts are additive:
/// instances export `blocked`, `identified`, the window and the density, and Prometheus sums them.
public struct TrapEscapeRate: Hashable, Sendable {
    /// Trap events a rule's action blocked.
    public var blocked = 0
    /// Trap events identified, blocked or observed.
    public var identified = 0
    /// Event time from the first to the last timestamp seen, in seconds; 0 for input without timestamps
    /// (build logs).
    public var windowSeconds: Double = 0
    /// The configured potential trap density, events per second; `nil` to estimate it.
    public var configuredDensityPerSecond: Double?

    /// Makes a rate from its parts. Allocates nothing.
    public init(
        blocked: Int = 0, identified: Int = 0, windowSeconds: Double = 0, configuredDensityPerSecond: Double? = nil
    ) {
        self.blocked = blocked
        self.identified = identified
        self.windowSeconds = windowSeconds
        self.configuredDensityPerSecond = configuredDensityPerSecond
    }

    /// The density used: configured, else identified events over the window; `nil` when the window is empty
    /// and nothing is configured.
    public var densityPerSecond: Double? {
        if let configuredDensityPerSecond { return configuredDensityPerSecond }
        return windowSeconds > 0 ? Double(identified) / windowSeconds : nil
    }

    /// TER; `nil` when it is undefined (no trap identified and no density configured, or a configured density
    /// with an empty window).
    ///
    /// With the estimated density the window cancels out (`blocked / identified`), so input without
    /// timestamps, such as a build log, still has a rate.
    public var value: Double? {
        if let configuredDensityPerSecond {
            let expected = windowSeconds * configuredDensityPerSecond
            return expected > 0 ? Double(blocked) / expected : nil
        }
        return identified > 0 ? Double(blocked) / Double(identified) : nil
    }
}

/// The running counts behind a `TrapEscapeRate`: trap events identified and blocked, and the
/// event-time window they covered. The one place TER is tallied, whether by a replay, a sidecar,
/// an embedded `Pipeline` or the build-log gate; the density is applied when the rate is read,
/// so a reload that changes it keeps the counts.
public struct TrapEscapeTally: Hashable, Sendable {
    /// Trap events identified, blocked or observed.
    public private(set) var identified = 0
    /// Trap events a rule's action blocked.
    public private(set) var blocked = 0
    /// The earliest and latest event time seen, Unix nanoseconds (`earliest > latest`: none).
    public private(set) var earliest = UInt64.max
    /// The latest event time seen (nanoseconds since the epoch).
    public private(set) var latest: UInt64 = 0

    /// Makes an empty tally. Allocates nothing.
    public init() {}

    /// Counts one trap event. Allocates nothing.
    public mutating func count(blocked isBlocked: Bool) {
        identified += 1
        if isBlocked { blocked += 1 }
    }

    /// Counts trap events. Allocates nothing.
    public mutating func count(_ events: some Sequence<TrapLedger.Event>) {
        for event in events { count(blocked: event.blocked) }
    }

    /// Widens the event-time window to cover `earliest...latest` (an empty range leaves it). Allocates nothing.
    public mutating func observe(earliest: UInt64, latest: UInt64) {
        self.earliest = min(self.earliest, earliest)
        self.latest = max(self.latest, latest)
    }

    /// Adds another tally's counts and window (another worker's, or another instance's). Allocates nothing.
    public mutating func add(_ other: TrapEscapeTally) {
        identified += other.identified
        blocked += other.blocked
        observe(earliest: other.earliest, latest: other.latest)
    }

    /// The rate these counts give with `configuredDensityPerSecond` (`nil`: estimated). Allocates nothing.
    public func rate(configuredDensityPerSecond: Double?) -> TrapEscapeRate {
        TrapEscapeRate(
            blocked: blocked, identified: identified,
            windowSeconds: earliest < latest ? Double(latest - earliest) / 1e9 : 0,
            configuredDensityPerSecond: configuredDensityPerSecond)
    }
}
