import Foundation
import Prometheus
import TraplineCore
import TraplineStages

/// Trapline's own metrics, in the Prometheus text format.
///
/// Every family and label value is declared once, when the metrics are made (reasons from the
/// fixed set of decode errors, signals from the two Trapline processes), never from input
/// data, so a hostile input cannot grow the series count. Counters are fed once per frame
/// outcome, not per record.
final class TraplineMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let received: Counter
    private let forwarded: [Signal: Counter]
    private let rejected: [String: Counter]
    private let inputBytes: Counter
    private let frames: Counter
    private let jsonLenient: [String: Counter]
    private let filtered: [Counter]
    private let blocked: [Counter]
    private let ruleErrors: [Counter]
    private let lookups: [Counter]
    private let misses: [(noMatch: Counter, sharedIP: Counter)]
    private let podTableSize: [Gauge]
    private let stageDuration: [DurationHistogram]
    private let decodeDuration: DurationHistogram
    private let encodeDuration: DurationHistogram
    private let trapIdentified: [TrapClass: Counter]
    private let trapBlocked: [TrapClass: Counter]
    private let terWindow: Gauge?
    private let terDensity: Gauge?
    private let terExpected: Gauge?

    /// - Parameter stages: the ids of the pipeline's stages, which label their series.
    /// - Parameter trapClasses: the classes the pipeline's trap rules can identify (declared
    ///   from the configuration, never from input); empty when no `traps` processor runs.
    /// - Parameter sharing: a registry to declare the families in (a reloaded pipeline keeps the
    ///   series it shares with the one before, so counters never go back).
    init(
        version: String, stages: [String] = [], trapClasses: [TrapClass] = [],
        sharing: PrometheusCollectorRegistry? = nil
    ) {
        let registry = sharing ?? PrometheusCollectorRegistry()
        self.registry = registry
        received = registry.makeCounter(
            descriptor: Self.named(
                "trapline_records_received_total",
                help: "Records that entered: decoded, or counted for input that could not be decoded."))
        forwarded = Dictionary(
            uniqueKeysWithValues: Signal.allCases.map { signal in
                (
                    signal,
                    registry.makeCounter(
                        descriptor: Self.named(
                            "trapline_records_forwarded_total", help: "Records written on to the exporters."),
                        labels: [("signal", signal.rawValue)])
                )
            })
        rejected = Dictionary(
            uniqueKeysWithValues: Rejection.Reason.all.map { code in
                (
                    code.name,
                    registry.makeCounter(
                        descriptor: Self.named(
                            "trapline_records_rejected_total", help: "Records rejected as bad input, by reason."),
                        labels: [("reason", code.name)])
                )
            })
        inputBytes = registry.makeCounter(
            descriptor: Self.named(
                "trapline_input_bytes_total", help: "Bytes of input frames decoded (after decompression)."))
        frames = registry.makeCounter(
            descriptor: Self.named("trapline_input_frames_total", help: "Input frames decoded."))
        jsonLenient = Dictionary(
            uniqueKeysWithValues: JSONLeniency().byKind.map { kind in
                (
                    kind.kind,
                    registry.makeCounter(
                        descriptor: Self.named(
                            "trapline_json_lenient_total",
                            help: "OTLP JSON read leniently (outside the OTLP JSON encoding), by kind."),
                        labels: [("kind", kind.kind)])
                )
            })
        filtered = stages.map { stage in
            registry.makeCounter(
                descriptor: Self.named(
                    "trapline_records_filtered_total", help: "Records a stage dropped on purpose, by stage."),
                labels: [("stage", stage)])
        }
        blocked = stages.map { stage in
            registry.makeCounter(
                descriptor: Self.named(
                    "trapline_records_blocked_total", help: "Trap events a stage blocked, by stage."),
                labels: [("stage", stage)])
        }
        ruleErrors = stages.map { stage in
            registry.makeCounter(
                descriptor: Self.named(
                    "trapline_rule_errors_total",
                    help: "Rule failures a stage counted and passed over (error_mode ignore or silent), by stage."),
                labels: [("stage", stage)])
        }
        lookups = stages.map { stage in
            registry.makeCounter(
                descriptor: Self.named(
                    "trapline_k8s_association_lookups_total",
                    help: "Resources a k8s_attributes stage looked up a pod for, by stage."), labels: [("stage", stage)]
            )
        }
        misses = stages.map { stage in
            func miss(_ reason: String) -> Counter {
                registry.makeCounter(
                    descriptor: Self.named(
                        "trapline_k8s_association_misses_total",
                        help: "Lookups that found no pod, by stage and reason (shared_ip: several pods share the IP)."),
                    labels: [("stage", stage), ("reason", reason)])
            }
            return (miss("no_match"), miss("shared_ip"))
        }
        podTableSize = stages.map { stage in
            registry.makeGauge(
                descriptor: Self.named("trapline_k8s_pods", help: "Pods in a k8s_attributes stage's table."),
                labels: [("stage", stage)])
        }
        let buckets: [Duration] = [
            .microseconds(10), .microseconds(50), .microseconds(100), .microseconds(500), .milliseconds(1),
            .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1),
        ]
        func histogram(_ stage: String) -> DurationHistogram {
            registry.makeDurationHistogram(
                descriptor: Self.named(
                    "trapline_stage_duration_seconds",
                    help: "Time one batch spends in a stage (decode and encode included), by stage."),
                labels: [("stage", stage)], buckets: buckets)
        }
        decodeDuration = histogram("decode")
        encodeDuration = histogram("encode")
        stageDuration = stages.map(histogram)
        trapIdentified = Dictionary(
            uniqueKeysWithValues: trapClasses.map { trapClass in
                (
                    trapClass,
                    registry.makeCounter(
                        descriptor: Self.named(
                            "trapline_trap_events_identified_total",
                            help: "Trap events the rules identified, blocked or observed, by class."),
                        labels: [("class", trapClass.rawValue)])
                )
            })
        trapBlocked = Dictionary(
            uniqueKeysWithValues: trapClasses.map { trapClass in
                (
                    trapClass,
                    registry.makeCounter(
                        descriptor: Self.named(
                            "trapline_trap_events_blocked_total",
                            help: "Trap events a rule's action blocked, by class (the TER numerator)."),
                        labels: [("class", trapClass.rawValue)])
                )
            })
        if trapClasses.isEmpty {
            (terWindow, terDensity, terExpected) = (nil, nil, nil)
        } else {
            terWindow = registry.makeGauge(
                descriptor: Self.named(
                    "trapline_ter_window_seconds",
                    help: "Event time from the first to the last timestamp the trap stages saw, in seconds."))
            terDensity = registry.makeGauge(
                descriptor: Self.named(
                    "trapline_ter_density_per_second",
                    help: "Potential trap density used for TER: configured, else identified events over the window."))
            terExpected = registry.makeGauge(
                descriptor: Self.named(
                    "trapline_ter_expected_events",
                    help:
                        "The TER denominator, window times density; TER across instances is sum(trapline_trap_events_blocked_total) / sum(trapline_ter_expected_events)."
                ))
        }
        let buildInfo = registry.makeGauge(
            descriptor: Self.named("trapline_build_info", help: "Trapline's version; always 1."),
            labels: [("version", version)])
        buildInfo.set(to: 1.0)
    }

    /// Folds one frame's outcome in.
    func record(_ outcome: FrameOutcome) {
        if outcome.records.received > 0 { received.increment(by: Int64(outcome.records.received)) }
        for signal in Signal.allCases where outcome.forwarded[signal] > 0 {
            forwarded[signal]?.increment(by: Int64(outcome.forwarded[signal]))
        }
        for rejection in outcome.rejections where rejection.records > 0 {
            rejected[rejection.error.reason.name]?.increment(by: Int64(rejection.records))
        }
        if outcome.frames > 0 { frames.increment(by: Int64(outcome.frames)) }
        if outcome.inputBytes > 0 { inputBytes.increment(by: Int64(outcome.inputBytes)) }
        for (kind, count) in outcome.jsonLeniency.byKind where count > 0 {
            jsonLenient[kind]?.increment(by: Int64(count))
        }
        for event in outcome.trapEvents {
            trapIdentified[event.trapClass]?.increment()
            if event.blocked { trapBlocked[event.trapClass]?.increment() }
        }
        guard outcome.frames > 0 else { return }
        decodeDuration.recordNanoseconds(Int64(outcome.decodeNanoseconds))
        if outcome.signal != nil { encodeDuration.recordNanoseconds(Int64(outcome.encodeNanoseconds)) }
        for (index, counts) in outcome.stages.enumerated() where index < filtered.count {
            if counts.filtered > 0 { filtered[index].increment(by: Int64(counts.filtered)) }
            if counts.blocked > 0 { blocked[index].increment(by: Int64(counts.blocked)) }
            if counts.ruleErrors > 0 { ruleErrors[index].increment(by: Int64(counts.ruleErrors)) }
            if counts.associationLookups > 0 { lookups[index].increment(by: Int64(counts.associationLookups)) }
            let noMatch = counts.associationMisses - counts.sharedIPMisses
            if noMatch > 0 { misses[index].noMatch.increment(by: Int64(noMatch)) }
            if counts.sharedIPMisses > 0 { misses[index].sharedIP.increment(by: Int64(counts.sharedIPMisses)) }
            if counts.podTableSize > 0 { podTableSize[index].set(to: Double(counts.podTableSize)) }
            stageDuration[index].recordNanoseconds(Int64(counts.nanoseconds))
        }
    }

    /// Sets the TER gauges at the end of a run. With an estimated density the denominator is the
    /// number of events identified, so the PromQL ratio is the blocked share, as TER is then.
    func record(_ rate: TrapEscapeRate) {
        terWindow?.set(to: rate.windowSeconds)
        terDensity?.set(to: rate.densityPerSecond ?? 0)
        let expected =
            rate.configuredDensityPerSecond.map { $0 * rate.windowSeconds } ?? Double(rate.identified)
        terExpected?.set(to: expected)
    }

    /// Counts a configuration reload (`trapline_config_reloads_total{result}`).
    func recordReload(succeeded: Bool) {
        registry.makeCounter(
            descriptor: Self.named(
                "trapline_config_reloads_total",
                help: "Configuration reloads on SIGHUP; an invalid file keeps the running pipeline (failure)."),
            labels: [("result", succeeded ? "success" : "failure")]
        ).increment()
    }

    /// A metric's name and help as swift-prometheus describes them: Trapline's names already end
    /// in their unit (`_total`, `_seconds`), so the descriptor adds none.
    static func named(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// The exposition text.
    var text: String { registry.emitToString() }

    /// Writes the exposition to `path` through a temporary and a rename, so a scraper reading
    /// the textfile never sees half of it.
    func write(to path: String, appending extra: String = "") throws(IOFailure) {
        let sink = try OutputSink(.file(path))
        try sink.write(Array((text + extra).utf8))
        try sink.finish()
    }
}

/// Trapline's version, as `trapline --version` and `trapline_build_info` give it.
public enum TraplineVersion {
    /// The version string.
    public static let current = "0.1.0"
}
