import TraplineCore
import TraplineStages

/// The Collector's `memory_limiter` processor: while the process's memory is above the soft
/// limit (`limit` minus `spike_limit`), the receivers of the pipelines that list it refuse new
/// data (the sidecar answers 503 with Retry-After before reading the body; file and stdin
/// inputs wait before reading on), so memory is not exhausted. Memory is measured every
/// `check_interval`.
@_spi(Plumbing) public struct MemoryLimiterConfig: ProcessorComponent, Hashable {
    static let type = "memory_limiter"
    static let summary = "refuses data while memory is above limit_mib - spike_limit_mib (or percentages)"

    /// How often memory is measured (required, above 0).
    public var checkIntervalSeconds = 0.0
    /// The hard limit in MiB, or nil when given as a percentage.
    public var limitMiB: Int?
    /// The spike allowance in MiB (default 20% of the limit).
    public var spikeLimitMiB: Int?
    /// The hard limit as a percentage of the memory available (the cgroup's limit, else the
    /// machine's), instead of `limitMiB`.
    public var limitPercentage: Int?
    /// The spike allowance as a percentage of the memory available.
    public var spikeLimitPercentage: Int?

    static func decode(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder) -> Self? {
        guard
            let entries = decoder.settings(
                of: component,
                known: ["check_interval", "limit_mib", "spike_limit_mib", "limit_percentage", "spike_limit_percentage"])
        else { return nil }
        var config = MemoryLimiterConfig()
        for entry in entries {
            if entry.key == "check_interval" {
                config.checkIntervalSeconds = decoder.seconds(entry) ?? 0
                continue
            }
            guard let text = entry.node.scalar, let value = Int(text), value >= 0 else {
                decoder.diagnostics.error("expected a whole number of 0 or more", at: entry.location)
                continue
            }
            switch entry.key {
            case "limit_mib": config.limitMiB = value
            case "spike_limit_mib": config.spikeLimitMiB = value
            case "limit_percentage": config.limitPercentage = value
            default: config.spikeLimitPercentage = value
            }
        }
        // The Collector's own checks, in its words where they apply.
        if config.checkIntervalSeconds <= 0 {
            decoder.diagnostics.error("check_interval must be greater than zero", at: component.location)
        }
        switch (config.limitMiB, config.limitPercentage) {
        case (nil, nil), (0?, nil), (nil, 0?), (0?, 0?):
            decoder.diagnostics.error(
                "memAllocLimit or memoryLimitPercentage must be greater than zero: set limit_mib or limit_percentage",
                at: component.location)
        case (let mib?, _) where mib > 0:
            if let spike = config.spikeLimitMiB, spike >= mib {
                decoder.diagnostics.error("spike_limit_mib must be smaller than limit_mib", at: component.location)
            }
        case (_, let percentage?):
            if percentage > 100 {
                decoder.diagnostics.error("limit_percentage must be at most 100", at: component.location)
            } else if let spike = config.spikeLimitPercentage, spike >= percentage {
                decoder.diagnostics.error(
                    "spike_limit_percentage must be smaller than limit_percentage", at: component.location)
            }
        default: break
        }
        return config
    }

    func build(_ context: inout StageBuildContext, diagnostics: inout ConfigDiagnostics) -> (any Stage)? {
        PassThroughStage(id: context.id.description)
    }

    /// The soft and hard limits in bytes, on a machine with `available` bytes of memory.
    func limits(available: Int) -> (soft: Int, hard: Int) {
        let hard = limitMiB.flatMap { $0 > 0 ? $0 << 20 : nil } ?? available / 100 * (limitPercentage ?? 0)
        let spike =
            spikeLimitMiB.map { $0 << 20 }
            ?? (limitMiB ?? 0 > 0 ? nil : spikeLimitPercentage.map { available / 100 * $0 })
            ?? hard / 5
        return (max(0, hard - spike), hard)
    }
}
