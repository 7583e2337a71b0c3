public import TraplineCore
public import TraplineStages

/// What a replay did: the accounting, every rejection (up to a cap) and counts by reason.
public struct ReplayReport: Sendable {
    /// `received = forwarded + filtered + blocked + rejected`.
    public var records = RecordCounts()
    /// Spans among the forwarded records.
    public var spansForwarded = 0
    /// Log records among the forwarded records.
    public var logRecordsForwarded = 0
    /// Metric data points among the forwarded records.
    public var dataPointsForwarded = 0
    /// Rejections in input order, up to `ReplayOptions.maxReportedRejections`.
    public var rejections: [Rejection] = []
    /// Rejected records by reason (all of them, not capped).
    public var rejectedByReason: [String: Int] = [:]
    /// Rejections not listed in `rejections` because of the cap.
    public var unlistedRejections = 0
    /// Inputs that could not be opened or read.
    public var inputFailures: [IOFailure] = []
    /// Directories given as inputs that held no file.
    public var emptyDirectories: [String] = []
    /// Build-log rules a gate could not decide for want of package sources, as one line each
    /// (`source:line: advice`).
    public var skippedRules: [String] = []
    /// Files read.
    public var filesRead = 0
    /// Frames decoded (protobuf requests, or runs of text lines).
    public var frames = 0
    /// Text records whose invalid UTF-8 was replaced by U+FFFD.
    public var repairedTextLines = 0
    /// Text records that continue a line too long for one record.
    public var continuedTextLines = 0
    /// Bytes of input frames decoded (after decompression).
    public var inputBytes = 0
    /// Time spent decoding frames, in nanoseconds (summed over workers).
    public var decodeNanoseconds: UInt64 = 0
    /// Time spent encoding output, in nanoseconds (summed over workers).
    public var encodeNanoseconds: UInt64 = 0
    /// Wall time of replaying the regular files window by window (live input and following
    /// not included), in nanoseconds.
    public var fileReplayNanoseconds: UInt64 = 0
    /// Of `fileReplayNanoseconds`, the replaying thread's time alone: reading windows, merging
    /// outcomes into the report and writing the output while the workers process (the serial
    /// part that more workers cannot shorten), in nanoseconds.
    public var serialNanoseconds: UInt64 = 0
    /// What each stage of the chain did, in chain order.
    public var stages: [(id: String, counts: StageCounts)] = []
    /// OTLP JSON input read leniently, by kind.
    public var jsonLeniency = JSONLeniency()
    /// Bytes written to the output.
    public var bytesWritten = 0
    /// Trapline's metrics at the end, in the Prometheus text format.
    public var metricsText = ""
    /// The output failure that ended the replay, if any.
    public var outputFailure: IOFailure?
    /// Whether a stop (SIGTERM, SIGINT) ended reading before the inputs ended.
    public var stoppedBySignal = false
    /// Every trap event, in input order (`trap_events`).
    public var traps: [TrapEventRow] = []
    /// The Trap Escape Rate over the run; `nil` when no trap rules ran (then the report has no trap keys).
    public var trapEscapeRate: TrapEscapeRate?

    /// One trap event as the report lists it.
    public struct TrapEventRow: Sendable, Hashable {
        /// The input (a path, or `-`).
        public var source: String
        /// The 1-based line of a text input (0 for records that have none).
        public var line: Int
        /// The 0-based index of the record in its input, for records without a line (spans).
        public var record: Int?
        /// The trap's class.
        public var trapClass: TrapClass
        /// Whether the rule's action blocked it.
        public var blocked: Bool
        /// What the input shows.
        public var evidence: String
        /// What to do about it.
        public var remedy: String
        /// Lines of a text input around `line` (build-log traps: up to three).
        public var context: [String] = []
    }

    /// Makes an empty report. Allocates nothing.
    public init() {}

    /// Records received per input so far, to number the records of trap events.
    var recordsRead: [String: Int] = [:]
    /// Every trap event counted, listed or not, and the event time they covered.
    var trapTally = TrapEscapeTally()

    /// Sets `trapEscapeRate` from the tally of trap events.
    mutating func settleTrapEscapeRate(densityPerSecond: Double?) {
        trapEscapeRate = trapTally.rate(configuredDensityPerSecond: densityPerSecond)
    }

    /// What each drop audit route (an `audit` exporter, `--audit FILE`) did with the records it
    /// was given.
    public var auditTallies: [AuditRouteTally] = []

    /// One audit route's tally.
    public struct AuditRouteTally: Sendable, Hashable {
        /// The route: the exporter id, or `audit` for `--audit FILE`.
        public var route: String
        /// What it wrote and left out.
        public var tally: AuditTally
    }

    /// What each whole-trace filter decided.
    public var wholeTraceTallies: [WholeTraceTally] = []

    /// One whole-trace filter's tally.
    public struct WholeTraceTally: Sendable, Hashable {
        /// The filter's id.
        public var processor: String
        /// Traces a span of which matched.
        public var matchingTraces: Int
        /// Spans that arrived after their trace was decided otherwise (they followed that decision).
        public var lateSpans: Int
        /// Windows of live input decided before their decision wait ended.
        public var releasedEarly: Int
    }

    /// Whether this is sidecar mode's report: its input is its receivers, not files.
    public var isSidecar = false

    /// Whether this is `trapline gate`'s report, whose exit status says whether the gate passed.
    public var isGate = false

    /// Process exit status, as documented in the README: 0 ok, 65 some input rejected,
    /// 66 no input, 74 I/O error; for the gate: 3 a blocking trap fired, else 65 an input could not be read.
    public var exitStatus: Int32 {
        if isGate {
            if traps.contains(where: \.blocked) { return 3 }
            return inputFailures.isEmpty && emptyDirectories.isEmpty && rejections.isEmpty ? 0 : 65
        }
        if outputFailure != nil { return 74 }
        // A sidecar answered each bad request to its client; a stop with nothing failed is 0.
        if isSidecar { return 0 }
        if inputFailures.contains(where: { $0.operation != "open" && $0.operation != "opendir" }) { return 74 }
        if !inputFailures.isEmpty || !emptyDirectories.isEmpty || filesRead == 0 { return 66 }
        // A frame cut off by a stop is not bad input: a stopped run with nothing else wrong exits 0.
        let interrupted = rejectedByReason[Rejection.Reason.interrupted.name] ?? 0
        if records.rejected > interrupted || rejections.contains(where: { $0.error.reason != .interrupted }) {
            return 65
        }
        return 0
    }

    mutating func record(_ rejection: Rejection, cap: Int) {
        rejectedByReason[rejection.error.reason.name, default: 0] += rejection.records
        if rejections.count < cap {
            rejections.append(rejection)
        } else {
            unlistedRejections += 1
        }
    }
}

extension ReplayReport {
    /// Takes records counted as forwarded back out of the per-signal counts (an output lost
    /// them). Allocates nothing.
    mutating func subtractForwarded(_ lost: SignalCounts) {
        spansForwarded -= lost.spans
        logRecordsForwarded -= lost.logs
        dataPointsForwarded -= lost.dataPoints
    }
}
