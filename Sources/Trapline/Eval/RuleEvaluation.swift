import Foundation
import Synchronization
public import TraplineCore
public import TraplineRules
public import TraplineStages

/// `trapline eval`: one OTTL condition or statement run over records, with each record's
/// result — whether the condition matched, or what the statement changed (each field it
/// touched, before and after) — for debugging a `filter`, `transform` or trap rule before it
/// goes into a pipeline.
///
/// The text is compiled for every signal it is valid for (its paths decide the context, as in a
/// pipeline); a record of a signal it is not valid for is reported as such.
public struct RuleEvaluation: Sendable {
    /// What the text is.
    public enum Kind: String, Sendable {
        /// A condition: each record matches or not (as a filter or a trap's `when` sees it).
        case condition
        /// A statement: each record is changed, or not (as a transform runs it).
        case statement
    }

    /// The text as given.
    public let text: String
    /// Condition or statement.
    public let kind: Kind
    /// The text compiled for each signal it is valid for.
    let groups: [Signal: RuleGroup]

    /// Why the text cannot be evaluated.
    public struct CompileError: Error, Sendable, CustomStringConvertible {
        /// The reason, with the column of the problem.
        public var description: String
    }

    /// Compiles `text` as a statement if it is one (an editor call, with an optional `where`),
    /// else as a condition.
    ///
    /// - Throws: `CompileError` when it is neither for any signal.
    /// Allocates the compiled rules.
    public static func compile(_ text: String, errorMode: RuleErrorMode = .ignore) throws(CompileError)
        -> RuleEvaluation
    {
        var issuesByKind: [Kind: [String]] = [:]
        var reasons: [Kind: [Signal: String]] = [:]
        for kind in [Kind.statement, .condition] {
            var groups: [Signal: RuleGroup] = [:]
            for signal in Signal.allCases {
                let ruleSignal = RuleSignal(rawValue: signal.rawValue) ?? .traces
                switch RuleGroup.compile(
                    statements: kind == .statement ? [text] : [], conditions: kind == .condition ? [text] : [],
                    signal: ruleSignal, context: nil, errorMode: errorMode)
                {
                case .success(let group): groups[signal] = group
                case .failure(let issues):
                    let reason = issues.all.first.map { "\($0.error)" } ?? "?"
                    issuesByKind[kind, default: []].append("for \(signal.rawValue), \(reason)")
                    reasons[kind, default: [:]][signal] = reason
                }
            }
            if !groups.isEmpty {
                return RuleEvaluation(text: text, kind: kind, groups: groups, invalid: reasons[kind] ?? [:])
            }
        }
        let condition = issuesByKind[.condition, default: []].joined(separator: "; ")
        let statement = issuesByKind[.statement, default: []].joined(separator: "; ")
        throw CompileError(
            description:
                "'\(text)' is neither a statement nor a condition. As a condition: \(condition). As a statement: \(statement)"
        )
    }

    /// Why the text does not compile for the signals it is not valid for.
    let invalid: [Signal: String]

    /// The signals the text is valid for.
    public var signals: Set<Signal> { Set(groups.keys) }

    /// What evaluating a batch found, one line per record (in row order), for a stage to print.
    public struct Tally: Sendable, Equatable {
        /// Records seen.
        public var records = 0
        /// Records a condition matched, or a statement changed.
        public var hits = 0
        /// Records the rule failed on (a run-time error; the record counts as not matched or
        /// unchanged, as `error_mode: ignore` has it).
        public var errors = 0

        /// Nothing yet. Allocates nothing.
        public init() {}
    }

    /// Evaluates a batch of spans: one line per kept record into `lines`. Allocates the lines
    /// and, for a statement, the batch's JSON before and after.
    public func evaluate(_ batch: inout SpanBatch, mask: RowMask, into lines: inout [String], tally: inout Tally) {
        run(&batch, mask, .traces, &lines, &tally)
    }

    /// Evaluates a batch of log records. Allocates the lines and, for a statement, the JSON.
    public func evaluate(_ batch: inout LogBatch, mask: RowMask, into lines: inout [String], tally: inout Tally) {
        run(&batch, mask, .logs, &lines, &tally)
    }

    /// Evaluates a batch of metric data points. Allocates the lines and, for a statement, the JSON.
    public func evaluate(_ batch: inout MetricBatch, mask: RowMask, into lines: inout [String], tally: inout Tally) {
        run(&batch, mask, .metrics, &lines, &tally)
    }

    private func run<Batch: EvaluableBatch>(
        _ batch: inout Batch, _ mask: RowMask, _ signal: Signal, _ lines: inout [String], _ tally: inout Tally
    ) {
        let before = EvaluatedRecord.records(batch.json(mask), signal: signal)
        tally.records += before.count
        guard let group = groups[signal] else {
            let reason = invalid[signal].map { " (\($0))" } ?? ""
            for record in before {
                lines.append("\(record.identity): not valid for \(signal.rawValue)\(reason)")
            }
            return
        }
        switch kind {
        case .condition:
            let (matches, outcome) = batch.matches(group, mask)
            let kept = (0..<mask.kept.count).filter { mask.kept[$0] }
            let failed = outcome.errors > 0 ? failingRows(&batch, mask, group) : []
            for (index, row) in kept.enumerated() where index < before.count {
                let matched = matches.contains(row)
                if failed.contains(row) {
                    tally.errors += 1
                    lines.append("\(before[index].identity): error: \(outcome.firstError?.message ?? "run-time error")")
                } else {
                    if matched { tally.hits += 1 }
                    lines.append("\(before[index].identity): \(matched ? "matched" : "no match")")
                }
            }
        case .statement:
            let outcome = batch.transform(TransformProgram(groups: [group]), mask)
            let after = EvaluatedRecord.records(batch.json(mask), signal: signal)
            for (index, record) in before.enumerated() {
                let changes = index < after.count ? record.changes(to: after[index]) : []
                if changes.isEmpty {
                    lines.append("\(record.identity): unchanged")
                } else {
                    tally.hits += 1
                    lines.append("\(record.identity): " + changes.joined(separator: "; "))
                }
            }
            if outcome.errors > 0 {
                tally.errors += outcome.errors
                lines.append("errors: \(outcome.errors) (first: \(outcome.firstError?.message ?? "?"))")
            }
        }
    }

    /// The kept rows a condition fails on, found by running it on each row alone (only when the
    /// batch had an error: a debugging tool may take the time).
    private func failingRows<Batch: EvaluableBatch>(_ batch: inout Batch, _ mask: RowMask, _ group: RuleGroup)
        -> Set<Int>
    {
        var failing = Set<Int>()
        for row in 0..<mask.kept.count where mask.kept[row] {
            var single = RowMask()
            single.reset(count: mask.kept.count)
            for other in 0..<mask.kept.count where other != row { _ = single.drop(other) }
            if batch.matches(group, single).outcome.errors > 0 { failing.insert(row) }
        }
        return failing
    }
}

/// The three batch types as evaluation uses them: the one call each that differs by type.
protocol EvaluableBatch {
    /// The kept rows as OTLP JSON.
    func encodeJSON(_ mask: RowMask, into out: inout [UInt8])
    /// The kept rows a condition matches (a span event's match is its span's; a resource's or
    /// scope's, every record under it).
    mutating func matchingRows(_ group: RuleGroup, _ mask: RowMask, _ outcome: inout RuleOutcome)
        throws(RuleRuntimeError) -> [Int]
    mutating func transform(_ program: TransformProgram, _ mask: RowMask) -> RuleOutcome
}

extension EvaluableBatch {
    func json(_ mask: RowMask) -> [UInt8] {
        var out: [UInt8] = []
        encodeJSON(mask, into: &out)
        return out
    }

    /// The matches and the run-time errors (under `propagate`, the one error, nothing matched).
    mutating func matches(_ group: RuleGroup, _ mask: RowMask) -> (rows: Set<Int>, outcome: RuleOutcome) {
        var outcome = RuleOutcome()
        do {
            return (Set(try matchingRows(group, mask, &outcome)), outcome)
        } catch {
            outcome.fail(error)
            outcome.errors += 1
            return ([], outcome)
        }
    }
}

extension SpanBatch: EvaluableBatch {
    func encodeJSON(_ mask: RowMask, into out: inout [UInt8]) {
        OTLPJSONEncoder().encode(self, keeping: mask, into: &out)
    }
    mutating func matchingRows(_ group: RuleGroup, _ mask: RowMask, _ outcome: inout RuleOutcome)
        throws(RuleRuntimeError) -> [Int]
    {
        try MatchProgram(group: group).matchingRows(in: self, mask: mask, errors: &outcome).map(Int.init)
    }
    mutating func transform(_ program: TransformProgram, _ mask: RowMask) -> RuleOutcome {
        program.apply(to: &self, mask: mask)
    }
}

extension LogBatch: EvaluableBatch {
    func encodeJSON(_ mask: RowMask, into out: inout [UInt8]) {
        OTLPJSONEncoder().encode(self, keeping: mask, into: &out)
    }
    mutating func matchingRows(_ group: RuleGroup, _ mask: RowMask, _ outcome: inout RuleOutcome)
        throws(RuleRuntimeError) -> [Int]
    {
        try MatchProgram(group: group).matchingRows(in: self, mask: mask, errors: &outcome).map(Int.init)
    }
    mutating func transform(_ program: TransformProgram, _ mask: RowMask) -> RuleOutcome {
        program.apply(to: &self, mask: mask)
    }
}

extension MetricBatch: EvaluableBatch {
    func encodeJSON(_ mask: RowMask, into out: inout [UInt8]) {
        OTLPJSONEncoder().encode(self, keeping: mask, into: &out)
    }
    /// As a filter drops them (metrics have no match program): the rows it clears.
    mutating func matchingRows(_ group: RuleGroup, _ mask: RowMask, _ outcome: inout RuleOutcome)
        throws(RuleRuntimeError) -> [Int]
    {
        var after = mask
        outcome = FilterProgram(groups: [group]).apply(to: &self, mask: &after)
        return (0..<mask.kept.count).filter { mask.kept[$0] && !after.kept[$0] }
    }
    mutating func transform(_ program: TransformProgram, _ mask: RowMask) -> RuleOutcome {
        program.apply(to: &self, mask: mask)
    }
}

/// One record as OTLP JSON shows it, flattened to paths (`name`, `attributes["k"]`,
/// `resource.attributes["k"]`, `events[0].name`...) with their JSON values, and the identity
/// `eval` prints it by.
struct EvaluatedRecord {
    /// `span 1a2b… (trace 5c6d…) "GET /orders"`, `log 2026-… "body…"`, `metric http.requests point 2`.
    var identity: String
    var fields: [(path: String, value: String)]

    /// The paths whose values differ (or appear or go), as `path: before -> after`.
    func changes(to other: EvaluatedRecord) -> [String] {
        let mine = Dictionary(fields.map { ($0.path, $0.value) }, uniquingKeysWith: { first, _ in first })
        let theirs = Dictionary(other.fields.map { ($0.path, $0.value) }, uniquingKeysWith: { first, _ in first })
        var paths = fields.map(\.path)
        for field in other.fields where mine[field.path] == nil { paths.append(field.path) }
        return paths.compactMap { path in
            let before = mine[path]
            let after = theirs[path]
            guard before != after else { return nil }
            return "\(path): \(before ?? "(none)") -> \(after ?? "(none)")"
        }
    }

    /// The records of one OTLP JSON request, in order.
    static func records(_ json: [UInt8], signal: Signal) -> [EvaluatedRecord] {
        var records: [EvaluatedRecord] = []
        for line in json.split(separator: UInt8(ascii: "\n")) {
            guard let request = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { continue }
            let containers: (String, String, String) =
                switch signal {
                case .traces: ("resourceSpans", "scopeSpans", "spans")
                case .logs: ("resourceLogs", "scopeLogs", "logRecords")
                case .metrics: ("resourceMetrics", "scopeMetrics", "metrics")
                }
            for resource in request[containers.0] as? [[String: Any]] ?? [] {
                var outer: [(String, String)] = []
                flatten(resource["resource"], "resource", into: &outer)
                for scope in resource[containers.1] as? [[String: Any]] ?? [] {
                    var around = outer
                    flatten(scope["scope"], "scope", into: &around)
                    for item in scope[containers.2] as? [[String: Any]] ?? [] {
                        if signal == .metrics {
                            records += metricPoints(item, around: around)
                        } else {
                            var fields = around
                            flatten(item, "", into: &fields)
                            records.append(EvaluatedRecord(identity: identity(item, signal), fields: fields))
                        }
                    }
                }
            }
        }
        return records
    }

    /// A metric's data points, each a record with the metric's own fields around it.
    static func metricPoints(_ metric: [String: Any], around: [(String, String)]) -> [EvaluatedRecord] {
        let name = metric["name"] as? String ?? ""
        var fields = around
        var data: (key: String, value: [String: Any])?
        for (key, value) in metric.sorted(by: { $0.key < $1.key }) {
            if let nested = value as? [String: Any], nested["dataPoints"] != nil {
                data = (key, nested)
            } else {
                flatten(value, "metric.\(key)", into: &fields)
            }
        }
        guard let data else { return [] }
        for (key, value) in data.value.sorted(by: { $0.key < $1.key }) where key != "dataPoints" {
            flatten(value, "metric.\(data.key).\(key)", into: &fields)
        }
        return (data.value["dataPoints"] as? [[String: Any]] ?? []).enumerated().map { index, point in
            var pointFields = fields
            flatten(point, "", into: &pointFields)
            return EvaluatedRecord(identity: "metric \(name) point \(index)", fields: pointFields)
        }
    }

    static func identity(_ item: [String: Any], _ signal: Signal) -> String {
        if signal == .traces {
            let span = item["spanId"] as? String ?? ""
            let trace = item["traceId"] as? String ?? ""
            return "span \(span) (trace \(trace)) \(quoted(item["name"] as? String ?? ""))"
        }
        let time = item["timeUnixNano"] as? String ?? item["observedTimeUnixNano"] as? String ?? "0"
        var body = ""
        if let value = item["body"] as? [String: Any] {
            body = value["stringValue"] as? String ?? compact(value)
        }
        return "log \(time) \(quoted(String(body.prefix(60))))"
    }

    /// Flattens a JSON value into paths: objects by key, `attributes` lists by their keys,
    /// other lists by index.
    static func flatten(_ value: Any?, _ path: String, into fields: inout [(String, String)]) {
        guard let value else { return }
        func join(_ key: String) -> String { path.isEmpty ? key : path + "." + key }
        if let object = value as? [String: Any] {
            for (key, child) in object.sorted(by: { $0.key < $1.key }) {
                if key == "attributes", let list = child as? [[String: Any]] {
                    for attribute in list {
                        let name = attribute["key"] as? String ?? ""
                        fields.append(
                            (join("attributes") + "[\(quoted(name))]", compact(attribute["value"] ?? NSNull())))
                    }
                } else {
                    flatten(child, join(key), into: &fields)
                }
            }
        } else if let list = value as? [Any] {
            for (index, child) in list.enumerated() { flatten(child, path + "[\(index)]", into: &fields) }
        } else {
            fields.append((path, compact(value)))
        }
    }

    static func compact(_ value: Any) -> String {
        if let text = value as? String { return quoted(text) }
        if let object = value as? [String: Any], object.count == 1, let (kind, inner) = object.first {
            // An AnyValue: its value alone (`"x"`, `3`, `true`), typed lists and maps as JSON.
            switch kind {
            case "stringValue": return quoted(inner as? String ?? "")
            case "intValue", "doubleValue", "boolValue": return "\(inner)"
            default: break
            }
        }
        guard JSONSerialization.isValidJSONObject([value]),
            let data = try? JSONSerialization.data(
                withJSONObject: [value], options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "\(value)" }
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }

    static func quoted(_ text: String) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: [text], options: .withoutEscapingSlashes) else {
            return "\"\(text)\""
        }
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}

/// The stage `trapline eval` runs: each batch evaluated, its lines handed to `emit` (one
/// worker, so in input order), records left as they were for a condition.
public final class RuleEvaluationStage: Stage {
    /// `eval`.
    public let id = "eval"
    private let evaluation: RuleEvaluation
    private let emit: @Sendable ([String]) -> Void
    private let totals = Mutex(RuleEvaluation.Tally())

    /// Makes the stage. Allocates nothing.
    public init(_ evaluation: RuleEvaluation, emit: @escaping @Sendable ([String]) -> Void) {
        self.evaluation = evaluation
        self.emit = emit
    }

    /// What every batch so far came to.
    public var tally: RuleEvaluation.Tally { totals.withLock { $0 } }

    /// Evaluates the spans. Allocates the lines (a debugging tool, not the hot path).
    public func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts) {
        var lines: [String] = []
        var tally = RuleEvaluation.Tally()
        evaluation.evaluate(&batch, mask: mask, into: &lines, tally: &tally)
        finish(lines, tally)
    }

    /// Evaluates the log records. Allocates the lines.
    public func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts) {
        var lines: [String] = []
        var tally = RuleEvaluation.Tally()
        evaluation.evaluate(&batch, mask: mask, into: &lines, tally: &tally)
        finish(lines, tally)
    }

    /// Evaluates the data points. Allocates the lines.
    public func process(_ batch: inout MetricBatch, mask: inout RowMask, counts: inout StageCounts) {
        var lines: [String] = []
        var tally = RuleEvaluation.Tally()
        evaluation.evaluate(&batch, mask: mask, into: &lines, tally: &tally)
        finish(lines, tally)
    }

    private func finish(_ lines: [String], _ tally: RuleEvaluation.Tally) {
        totals.withLock {
            $0.records += tally.records
            $0.hits += tally.hits
            $0.errors += tally.errors
        }
        emit(lines)
    }
}
