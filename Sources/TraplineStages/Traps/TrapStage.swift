@_spi(Plumbing) public import TraplineCore
import TraplineRules

/// The `traps` processor: identifies trap events with its rules, marks each record with
/// `trap.class`, `trap.action` and `trap.remedy`, and blocks what a `block` rule identified
/// (the record leaves the main flow, counted as blocked, for the quarantine exporter).
///
/// Rules run in order over whole columns; a record is one event of the first rule that matches
/// it (so `blocked` records and blocked events agree). Conditions run once per batch, the
/// per-record work happens only for matched records.
public struct TrapStage: Stage {
    public let id: String
    /// OTTL rules, in order.
    public let rules: [TrapRule]
    /// The `go-crossbuild` pack over log records, when configured.
    public let buildLogs: BuildLogTrapRules?

    /// The attribute keys every identified record gets.
    public static let classKey = "trap.class"
    /// `trap.action`: what the rule did with the record.
    public static let actionKey = "trap.action"
    /// `trap.remedy`: what to do about the trap.
    public static let remedyKey = "trap.remedy"

    /// Makes the stage. Allocates nothing.
    public init(id: String, rules: [TrapRule], buildLogs: BuildLogTrapRules? = nil) {
        self.id = id
        self.rules = rules
        self.buildLogs = buildLogs
    }

    /// Does not allocate per record; each event identified appends to the ledger.
    public func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts) {
        var traps = TrapLedger()
        process(&batch, mask: &mask, counts: &counts, traps: &traps)
    }

    /// Does not allocate per record; each event identified appends to the ledger (the build-log pack allocates its
    /// line index per log).
    public func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts) {
        var traps = TrapLedger()
        process(&batch, mask: &mask, counts: &counts, traps: &traps)
    }

    /// Does not allocate per record; each event identified appends to the ledger.
    public func process(
        _ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts, traps: inout TrapLedger
    ) {
        traps.sawTrapStage = true
        for row in mask.kept.indices where mask.kept[row] {
            traps.see(batch.startTimes[row])
            traps.see(batch.endTimes[row])
        }
        let firstEvent = (traps.events.count, traps.blockedRows.count)
        var outcome = RuleOutcome()
        var claimed: [Bool] = []
        runRules(.traces, &batch, &mask, &counts, &traps, &outcome, &claimed)
        finish(outcome, firstEvent: firstEvent, &mask, &counts, &traps)
    }

    /// Does not allocate per record; each event identified appends to the ledger.
    public func process(
        _ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts, traps: inout TrapLedger
    ) {
        traps.sawTrapStage = true
        for row in mask.kept.indices where mask.kept[row] { traps.see(batch.times[row]) }
        let firstEvent = (traps.events.count, traps.blockedRows.count)
        var outcome = RuleOutcome()
        var claimed: [Bool] = []
        runRules(.logs, &batch, &mask, &counts, &traps, &outcome, &claimed)
        if !outcome.failed, let buildLogs { scanBuildLog(buildLogs, &batch, &mask, &counts, &traps, &claimed) }
        finish(outcome, firstEvent: firstEvent, &mask, &counts, &traps)
    }

    /// Runs the rules of `signal` in order: a record is one event of the first rule that matches
    /// it (`claimed`), marked with the trap's attributes, and blocked when the rule says so.
    private func runRules<Batch: TrapRuleBatch>(
        _ signal: RuleSignal, _ batch: inout Batch, _ mask: inout RowMask, _ counts: inout StageCounts,
        _ traps: inout TrapLedger, _ outcome: inout RuleOutcome, _ claimed: inout [Bool]
    ) {
        var stamps = TrapStamps()
        for (ruleIndex, rule) in rules.enumerated() where rule.signal == signal {
            var rows: [Int32]
            var verdicts: [TrapBaseline.Verdict] = []
            do throws(RuleRuntimeError) {
                rows = try batch.rows(matching: rule.condition, mask: mask, errors: &outcome)
                if let baseline = rule.baseline {
                    // Every span the rule covers goes into its baseline, claimed by an earlier rule or not.
                    traps.baselineTurn?.wait()
                    verdicts = try batch.judge(baseline, candidates: rows, mask: mask, errors: &outcome)
                    rows = verdicts.map(\.row)
                }
            } catch {
                outcome.fail(error)
                return
            }
            guard !rows.isEmpty else { continue }
            if claimed.isEmpty { claimed = Array(repeating: false, count: batch.count) }
            for (index, row) in rows.enumerated() where !claimed[Int(row)] {
                claimed[Int(row)] = true
                batch.stamp(rule, row: Int(row), &stamps)
                let (evidence, line) =
                    verdicts.isEmpty ? batch.evidence(row: Int(row)) : (verdicts[index].evidence, nil)
                record(rule, Int32(ruleIndex), row: row, evidence: evidence, line: line, &mask, &counts, &traps)
            }
        }
    }

    private func record(
        _ rule: TrapRule, _ ruleIndex: Int32, row: Int32, evidence: String, line: Int?, _ mask: inout RowMask,
        _ counts: inout StageCounts, _ traps: inout TrapLedger
    ) {
        let blocked = rule.action == .block
        traps.events.append(
            TrapLedger.Event(
                row: row, trapClass: rule.trapClass, blocked: blocked, evidence: evidence, remedy: rule.remedy,
                line: line, rule: ruleIndex))
        if blocked && mask.drop(Int(row)) {
            counts.blocked += 1
            traps.blockedRows.append(row)
        }
    }

    /// Folds rule errors in; under `propagate` a failed rule refuses the batch, as a filter's
    /// does, and the events of this stage are withdrawn (their records are rejected, not trapped).
    private func finish(
        _ outcome: RuleOutcome, firstEvent: (events: Int, blockedRows: Int), _ mask: inout RowMask,
        _ counts: inout StageCounts,
        _ traps: inout TrapLedger
    ) {
        counts.ruleErrors += outcome.errors
        guard outcome.failed else {
            // Events in row order (rules found them rule by rule), as the report lists them.
            traps.events[firstEvent.events...].sort { $0.row < $1.row }
            return
        }
        traps.events.removeSubrange(firstEvent.events...)
        traps.blockedRows.removeSubrange(firstEvent.blockedRows...)
        counts.rejected += counts.blocked
        counts.blocked = 0
        for row in mask.kept.indices where mask.drop(row) { counts.rejected += 1 }
    }

    /// The rule that blocked `row` (its index in `rules`, its name and condition), or the
    /// `go-crossbuild` pack; a refused batch's rows are rejected. Allocates (a drop audit only).
    ///
    /// - Parameters:
    ///   - row: a row the stage dropped.
    ///   - batch: unused: the trap events name the row.
    ///   - counts: what the stage counted for this batch.
    ///   - traps: the batch's trap events, this stage's among them.
    public func dropCause<Batch: StageBatch>(
        ofRow row: Int, in batch: Batch, counts: StageCounts, traps: TrapLedger
    ) -> DropCause {
        guard counts.blocked > 0 else { return DropCause(outcome: .rejected, reason: "rule_error") }
        // A row is blocked once, by the first rule that matched it; the pack blocks every record
        // a trap's evidence is on, its first with an event.
        let event = traps.events.last { $0.row == Int32(row) && $0.blocked }
        guard let event, event.rule >= 0, Int(event.rule) < rules.count else {
            let trapClass = event.map { " (\($0.trapClass.rawValue))" } ?? ""
            return DropCause(outcome: .blocked, rule: "go-crossbuild", reason: "trap pack blocked" + trapClass)
        }
        let rule = rules[Int(event.rule)]
        return DropCause(
            outcome: .blocked, ruleIndex: Int(event.rule),
            rule: rule.conditionText.isEmpty ? rule.name : rule.name + ": " + rule.conditionText,
            reason: "trap rule blocked (\(event.trapClass.rawValue))")
    }

    /// The body of a log record and its text line (`log.file.line_number`), for the report.
    static func describe(row: Int, of batch: LogBatch) -> (String, Int?) {
        batch.withBytes { bytes in
            let body = batch.bodies[row]
            let text = body.kind == .string ? String(decoding: bytes[body.slice], as: UTF8.self) : ""
            var line: Int?
            for index in batch.recordAttributes[row].range
            where batch.attributes.values[index].kind == .int
                && Self.equals(bytes[batch.attributes.keys[index]], TextLogDecoder.lineAttributeKey)
            {
                line = Int(batch.attributes.values[index].int)
            }
            return (text, line)
        }
    }

    /// The Go build settings OTLP log records carry as resource or record attributes (`GOOS`, or
    /// `go.env.GOOS`, and so on for GOARCH, GOARM, CGO_ENABLED, CC), as the `# env:` line of a
    /// capture header; nil when none does. The first kept record that has a setting wins.
    static func buildEnvironment(of batch: LogBatch, mask: RowMask) -> String? {
        let names = ["GOOS", "GOARCH", "GOARM", "CGO_ENABLED", "CC"]
        // Keys compared as bytes: no String per attribute.
        let keys = names.map { (name: $0, bare: Array($0.utf8), prefixed: Array(("go.env." + $0).utf8)) }
        var values: [String: String] = [:]
        batch.withBytes { bytes in
            func scan(_ range: RowRange) {
                for index in range.range where batch.attributes.values[index].kind == .string {
                    let key = bytes[batch.attributes.keys[index]]
                    guard
                        let match = keys.first(where: { key.elementsEqual($0.bare) || key.elementsEqual($0.prefixed) }),
                        values[match.name] == nil
                    else { continue }
                    values[match.name] = bytes.string(batch.attributes.values[index].slice)
                }
            }
            var seenResources = Set<Int>()
            for row in mask.kept.indices where mask.kept[row] {
                scan(batch.recordAttributes[row])
                let resource = Int(batch.scopes[Int(batch.scopeIndexes[row])].resourceIndex)
                if seenResources.insert(resource).inserted { scan(batch.resources[resource].attributes) }
            }
        }
        guard !values.isEmpty else { return nil }
        return names.compactMap { name in values[name].map { "\(name)=\($0)" } }.joined(separator: " ")
    }

    static func equals(_ bytes: UnsafeRawBufferPointer, _ text: String) -> Bool {
        bytes.count == text.utf8.count && zip(bytes, text.utf8).allSatisfy { $0 == $1 }
    }

    /// Runs the build-log scanner over the kept records' bodies as one log (a record with
    /// several lines is several lines of it), then maps each trap's lines back to records: the
    /// event is the record of the trap's first line, and a blocking trap blocks every record
    /// its evidence is on.
    private func scanBuildLog(
        _ pack: BuildLogTrapRules, _ batch: inout LogBatch, _ mask: inout RowMask, _ counts: inout StageCounts,
        _ traps: inout TrapLedger, _ claimed: inout [Bool]
    ) {
        var text = ""
        // The row of each line of `text`; -1 for the context line made from attributes.
        var lineRows: [Int32] = []
        if let environment = Self.buildEnvironment(of: batch, mask: mask) {
            text = "# env: " + environment + "\n"
            lineRows.append(-1)
        }
        let firstRow = mask.kept.firstIndex(of: true).map(Int32.init) ?? 0
        batch.withBytes { bytes in
            for row in mask.kept.indices where mask.kept[row] && batch.bodies[row].kind == .string {
                let body = bytes[batch.bodies[row].slice]
                text += String(decoding: body, as: UTF8.self)
                text += "\n"
                let lines = 1 + body.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
                lineRows.append(contentsOf: repeatElement(Int32(row), count: lines))
            }
        }
        guard lineRows.contains(where: { $0 >= 0 }) else { return }
        let found = pack.scanner.scan(text)
        guard !found.isEmpty else { return }
        if claimed.isEmpty { claimed = Array(repeating: false, count: batch.count) }
        var stamps = TrapStamps()
        for trap in found {
            guard trap.line >= 1, trap.line <= lineRows.count else { continue }
            // A trap shown only by the attributes' context line belongs to the batch's first record.
            let row = lineRows[trap.line - 1] >= 0 ? lineRows[trap.line - 1] : firstRow
            let (_, line) = Self.describe(row: Int(row), of: batch)
            traps.events.append(
                TrapLedger.Event(
                    row: row, trapClass: trap.trapClass, blocked: pack.action == .block, evidence: trap.evidence,
                    remedy: trap.remedy, line: line))
            var rows: Set<Int> = [Int(row)]
            for evidenceLine in trap.evidenceLines
            where evidenceLine >= 1 && evidenceLine <= lineRows.count && lineRows[evidenceLine - 1] >= 0 {
                rows.insert(Int(lineRows[evidenceLine - 1]))
            }
            for evidenceRow in rows.sorted() {
                guard !claimed[evidenceRow] else { continue }
                claimed[evidenceRow] = true
                stamps.stamp(
                    trap.trapClass, pack.action, trap.remedy, &batch.attributes,
                    &batch.recordAttributes[evidenceRow], &batch.storage)
                batch.markModified(evidenceRow)
                if pack.action == .block && mask.drop(evidenceRow) {
                    counts.blocked += 1
                    traps.blockedRows.append(Int32(evidenceRow))
                }
            }
        }
    }
}

/// Writes `trap.class`, `trap.action` and `trap.remedy` onto records: each key and each value
/// goes to the batch arena once per batch, however many records a rule identifies.
struct TrapStamps {
    private var keys: (ByteSlice, ByteSlice, ByteSlice)?
    private var values: [String: ByteSlice] = [:]

    mutating func stamp(
        _ trapClass: TrapClass, _ action: TrapAction, _ remedy: String, _ table: inout AttributeTable,
        _ range: inout RowRange, _ storage: inout SliceStorage
    ) {
        let keys =
            self.keys
            ?? (
                storage.appendToArena(TrapStage.classKey.utf8), storage.appendToArena(TrapStage.actionKey.utf8),
                storage.appendToArena(TrapStage.remedyKey.utf8)
            )
        self.keys = keys
        set(keys.0, value(trapClass.rawValue, &storage), &table, &range, storage)
        set(keys.1, value(action.rawValue, &storage), &table, &range, storage)
        set(keys.2, value(remedy, &storage), &table, &range, storage)
    }

    private mutating func value(_ text: String, _ storage: inout SliceStorage) -> ByteSlice {
        if let slice = values[text] { return slice }
        let slice = storage.appendToArena(text.utf8)
        values[text] = slice
        return slice
    }

    /// Replaces the key's value when the record has it (a record trapped twice keeps the last
    /// stage's verdict), else appends it; a range not at the end of the table moves there first.
    private func set(
        _ key: ByteSlice, _ value: ByteSlice, _ table: inout AttributeTable, _ range: inout RowRange,
        _ storage: SliceStorage
    ) {
        let stored = AnyValueRef.slice(.string, value)
        let existing = storage.withBytes { bytes in
            range.range.first { index in
                let candidate = bytes[table.keys[index]]
                let wanted = bytes[key]
                return candidate.count == wanted.count && candidate.elementsEqual(wanted)
            }
        }
        if let existing {
            table.values[existing] = stored
            return
        }
        if Int(range.start) + Int(range.count) != table.count || range.count == 0 {
            range = table.copyToEnd(range)
        }
        table.append(key: key, value: stored)
        range.count += 1
    }
}

extension StageChain {
    /// Whether a trap rule keeps a baseline (then batches of one input reach it in input order).
    public var keepsBaselines: Bool {
        stages.contains { stage in (stage as? TrapStage)?.rules.contains { $0.baseline != nil } == true }
    }

    /// Every trap class the chain's trap stages can identify, sorted (for metric families
    /// declared once, from the configuration).
    public var trapClasses: [TrapClass] {
        var classes = Set<TrapClass>()
        for case let stage as TrapStage in stages {
            classes.formUnion(stage.rules.map(\.trapClass))
            if stage.buildLogs != nil { classes.formUnion(TrapClass.goCrossBuild) }
        }
        return classes.sorted()
    }
}

/// What the trap rules need from a batch beyond `TelemetryBatch`: the rule engine's entry for
/// its signal, and the record's own fields for stamps and evidence.
protocol TrapRuleBatch: TelemetryBatch {
    func rows(matching condition: MatchProgram, mask: RowMask, errors: inout RuleOutcome) throws(RuleRuntimeError)
        -> [Int32]
    /// Writes the trap's attributes on the record and marks it changed.
    mutating func stamp(_ rule: TrapRule, row: Int, _ stamps: inout TrapStamps)
    /// What the report shows of the record, and its text line if it has one.
    func evidence(row: Int) -> (String, Int?)
    /// The traps a rule's baseline finds among the rows its condition matched (spans only).
    func judge(_ baseline: TrapBaseline, candidates: [Int32], mask: RowMask, errors: inout RuleOutcome)
        throws(RuleRuntimeError) -> [TrapBaseline.Verdict]
}

extension SpanBatch: TrapRuleBatch {
    func rows(matching condition: MatchProgram, mask: RowMask, errors: inout RuleOutcome) throws(RuleRuntimeError)
        -> [Int32]
    {
        try condition.matchingRows(in: self, mask: mask, errors: &errors)
    }

    mutating func stamp(_ rule: TrapRule, row: Int, _ stamps: inout TrapStamps) {
        stamps.stamp(rule.trapClass, rule.action, rule.remedy, &attributes, &spanAttributes[row], &storage)
        markModified(row)
    }

    func evidence(row: Int) -> (String, Int?) {
        let name = withBytes { bytes in String(decoding: bytes[names[row]], as: UTF8.self) }
        return ("span '\(name)' trace \(traceIDs[row]) span \(spanIDs[row])", nil)
    }

    func judge(_ baseline: TrapBaseline, candidates: [Int32], mask: RowMask, errors: inout RuleOutcome)
        throws(RuleRuntimeError) -> [TrapBaseline.Verdict]
    {
        try baseline.judge(self, candidates: candidates, mask: mask, errors: &errors)
    }
}

extension LogBatch: TrapRuleBatch {
    func rows(matching condition: MatchProgram, mask: RowMask, errors: inout RuleOutcome) throws(RuleRuntimeError)
        -> [Int32]
    {
        try condition.matchingRows(in: self, mask: mask, errors: &errors)
    }

    mutating func stamp(_ rule: TrapRule, row: Int, _ stamps: inout TrapStamps) {
        stamps.stamp(rule.trapClass, rule.action, rule.remedy, &attributes, &recordAttributes[row], &storage)
        markModified(row)
    }

    func evidence(row: Int) -> (String, Int?) { TrapStage.describe(row: row, of: self) }

    /// Baselines are over spans: the configuration refuses one on a rule over logs.
    func judge(_ baseline: TrapBaseline, candidates: [Int32], mask: RowMask, errors: inout RuleOutcome)
        -> [TrapBaseline.Verdict]
    { [] }
}
