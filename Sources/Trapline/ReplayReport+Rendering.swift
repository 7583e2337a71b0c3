import TraplineCore
import TraplineStages

extension ReplayReport {
    /// The report as JSON (keys in a fixed order, so reports diff cleanly).
    public var json: String {
        let out = JSONWriter()
        out.object {
            out.key("records")
            out.object {
                out.field("received", records.received)
                out.field("forwarded", records.forwarded)
                out.field("filtered", records.filtered)
                out.field("blocked", records.blocked)
                out.field("rejected", records.rejected)
            }
            out.key("forwarded_by_signal")
            out.object {
                out.field("spans", spansForwarded)
                out.field("log_records", logRecordsForwarded)
                out.field("data_points", dataPointsForwarded)
            }
            out.key("rejections")
            out.array(rejections) { rejection in
                out.object {
                    out.field("source", rejection.source)
                    out.field("offset", rejection.error.offset)
                    if let line = rejection.error.line { out.field("line", line) }
                    if let column = rejection.error.column { out.field("column", column) }
                    out.field("reason", rejection.error.reason.name)
                    out.field("message", rejection.error.description)
                    if let field = rejection.error.fieldName { out.field("field", field) }
                    out.field("records", rejection.records)
                }
            }
            out.field("unlisted_rejections", unlistedRejections)
            out.key("rejected_by_reason")
            out.object {
                for reason in rejectedByReason.keys.sorted() { out.field(reason, rejectedByReason[reason]!) }
            }
            out.key("input_errors")
            out.array(inputFailures) { failure in
                out.object {
                    out.field("path", failure.path)
                    out.field("operation", failure.operation)
                    out.field("message", failure.description)
                }
            }
            out.key("empty_directories")
            out.array(emptyDirectories) { out.string($0) }
            if isGate {
                out.key("skipped_rules")
                out.array(skippedRules) { out.string($0) }
            }
            out.key("json_lenient")
            out.object {
                for (kind, count) in jsonLeniency.byKind { out.field(kind, count) }
            }
            if fileReplayNanoseconds > 0 {
                out.key("serial")
                out.object {
                    out.key("seconds")
                    out.raw(String(Double(serialNanoseconds) / 1e9))
                    out.key("of_seconds")
                    out.raw(String(Double(fileReplayNanoseconds) / 1e9))
                    out.key("fraction")
                    out.raw(String(Double(serialNanoseconds) / Double(fileReplayNanoseconds)))
                }
            }
            out.key("stages")
            out.array(stageRows) { row in
                out.object {
                    out.field("id", row.id)
                    out.field("received", row.counts.received)
                    out.field("forwarded", row.counts.forwarded)
                    out.field("filtered", row.counts.filtered)
                    out.field("blocked", row.counts.blocked)
                    out.field("rejected", row.counts.rejected)
                    out.field("rule_errors", row.counts.ruleErrors)
                    if row.counts.associationLookups > 0 || row.counts.podTableSize > 0
                        || row.counts.podListItemsSkipped > 0
                    {
                        out.field("pods", row.counts.podTableSize)
                        out.field("pod_list_items_skipped", row.counts.podListItemsSkipped)
                        out.field("association_lookups", row.counts.associationLookups)
                        out.field("association_misses", row.counts.associationMisses)
                        out.field("shared_ip_misses", row.counts.sharedIPMisses)
                    }
                    out.field("seconds", String(Double(row.counts.nanoseconds) / 1e9))
                    out.field("records_per_second", Int(row.recordsPerSecond))
                }
            }
            out.field("input_bytes", inputBytes)
            out.field("files_read", filesRead)
            out.field("frames", frames)
            out.key("text")
            out.object {
                out.field("repaired_lines", repairedTextLines)
                out.field("continued_lines", continuedTextLines)
            }
            out.key("output")
            out.object {
                out.field("bytes", bytesWritten)
                if let outputFailure { out.field("error", outputFailure.description) }
            }
            if let trapEscapeRate { renderTraps(trapEscapeRate, into: out) }
            if !wholeTraceTallies.isEmpty {
                out.key("whole_trace")
                out.array(wholeTraceTallies) { tally in
                    out.object {
                        out.field("processor", tally.processor)
                        out.field("matching_traces", tally.matchingTraces)
                        out.field("late_spans", tally.lateSpans)
                        out.field("released_early", tally.releasedEarly)
                    }
                }
            }
            if !auditTallies.isEmpty {
                out.key("audit")
                out.array(auditTallies) { audit in
                    out.object {
                        out.field("exporter", audit.route)
                        out.field("written", audit.tally.written)
                        out.field("sampled_out", audit.tally.sampledOut)
                        out.field("rate_limited", audit.tally.rateLimited)
                        out.field("not_written", audit.tally.notWritten)
                    }
                }
            }
            out.field("stopped_by_signal", stoppedBySignal)
            out.field("exit_status", Int(exitStatus))
        }
        return out.text + "\n"
    }

    /// `traps` (per class), `trap_events` and `ter`.
    private func renderTraps(_ rate: TrapEscapeRate, into out: JSONWriter) {
        out.key("traps")
        out.array(Set(traps.map(\.trapClass)).sorted()) { trapClass in
            let events = traps.filter { $0.trapClass == trapClass }
            var classRate = rate
            classRate.identified = events.count
            classRate.blocked = events.filter(\.blocked).count
            out.object {
                out.field("class", trapClass.rawValue)
                out.field("identified", classRate.identified)
                out.field("blocked", classRate.blocked)
                out.key("ter")
                out.raw(classRate.value.map { String($0) } ?? "null")
            }
        }
        out.key("trap_events")
        out.array(traps) { event in
            out.object {
                out.field("source", event.source)
                if let record = event.record { out.field("record", record) } else { out.field("line", event.line) }
                out.field("class", event.trapClass.rawValue)
                out.field("blocked", event.blocked)
                out.field("evidence", event.evidence)
                out.field("remedy", event.remedy)
                if !event.context.isEmpty {
                    out.key("context")
                    out.array(event.context) { out.string($0) }
                }
            }
        }
        out.key("ter")
        out.object {
            out.key("value")
            out.raw(rate.value.map { String($0) } ?? "null")
            out.field("blocked", rate.blocked)
            out.field("identified", rate.identified)
            out.key("window_seconds")
            out.raw(String(rate.windowSeconds))
            out.key("density_per_second")
            out.raw(rate.densityPerSecond.map { String($0) } ?? "null")
        }
    }

    /// Decode, each stage of the chain, and encode, with what each saw and how fast it went
    /// (time summed over workers, so throughput is per core).
    var stageRows: [(id: String, counts: StageCounts, recordsPerSecond: Double)] {
        var decode = StageCounts()
        decode.received = records.received
        decode.forwarded = records.received - records.rejected
        decode.nanoseconds = decodeNanoseconds
        var encode = StageCounts()
        encode.received = records.forwarded
        encode.forwarded = records.forwarded
        encode.nanoseconds = encodeNanoseconds
        let rows = [("decode", decode)] + stages.map { ($0.id, $0.counts) } + [("encode", encode)]
        return rows.map { row in
            let seconds = Double(row.1.nanoseconds) / 1e9
            return (row.0, row.1, seconds > 0 ? Double(row.1.received) / seconds : 0)
        }
    }

    /// A short summary for people (stderr), one fact per line.
    public var summary: String {
        var lines: [String] = []
        lines.append(
            "trapline: \(records.received) records received, \(records.forwarded) forwarded "
                + "(\(spansForwarded) spans, \(logRecordsForwarded) log records"
                + (dataPointsForwarded > 0 ? ", \(dataPointsForwarded) data points" : "")
                + "), \(records.filtered) filtered, "
                + "\(records.blocked) blocked, \(records.rejected) rejected; \(filesRead) files, \(frames) frames")
        for rejection in rejections.prefix(20) {
            lines.append(
                "trapline: rejected \(rejection.source) at byte \(rejection.error.offset): \(rejection.error.description) "
                    + "[\(rejection.error.reason.name), \(rejection.records) record\(rejection.records == 1 ? "" : "s")]"
            )
        }
        let more = rejections.count - min(rejections.count, 20) + unlistedRejections
        if more > 0 { lines.append("trapline: … and \(more) more rejections (see --report-file)") }
        for failure in inputFailures { lines.append("trapline: \(failure.description)") }
        for directory in emptyDirectories { lines.append("trapline: \(directory): directory holds no file") }
        if jsonLeniency.total > 0 {
            let kinds = jsonLeniency.byKind.filter { $0.count > 0 }.map { "\($0.count) \($0.kind)" }
            lines.append("trapline: OTLP JSON read leniently: " + kinds.joined(separator: ", "))
        }
        if repairedTextLines > 0 {
            lines.append("trapline: \(repairedTextLines) text lines had invalid UTF-8 replaced by U+FFFD")
        }
        if continuedTextLines > 0 {
            lines.append("trapline: \(continuedTextLines) text records continue over-long lines")
        }
        for stage in stages where stage.counts.podListItemsSkipped > 0 {
            let count = stage.counts.podListItemsSkipped
            lines.append(
                "trapline: warning: \(stage.id): \(count) item\(count == 1 ? "" : "s") of its pod, namespace or node "
                    + "lists skipped (null, not an object, or without metadata.name and metadata.uid)")
        }
        if let outputFailure { lines.append("trapline: output: \(outputFailure.description)") }
        for tally in wholeTraceTallies {
            var line = "trapline: \(tally.processor): whole traces: \(tally.matchingTraces) matching"
            if tally.lateSpans > 0 {
                line +=
                    ", \(tally.lateSpans) spans arrived after their trace was decided (a longer decision_wait takes them)"
            }
            if tally.releasedEarly > 0 {
                line += ", \(tally.releasedEarly) windows decided early (max_held_mib was reached)"
            }
            lines.append(line)
        }
        for audit in auditTallies {
            var parts = ["\(audit.tally.written) written"]
            if audit.tally.sampledOut > 0 { parts.append("\(audit.tally.sampledOut) sampled out") }
            if audit.tally.rateLimited > 0 { parts.append("\(audit.tally.rateLimited) over the rate limit") }
            if audit.tally.notWritten > 0 { parts.append("\(audit.tally.notWritten) not written (output failed)") }
            lines.append(
                "trapline: \(audit.route): audited \(audit.tally.total) records: " + parts.joined(separator: ", "))
        }
        if stoppedBySignal {
            lines.append("trapline: stopped by SIGTERM/SIGINT: what was read was processed and written")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Writes compact JSON with keys in call order. A class so nested builder closures can share it.
final class JSONWriter {
    private(set) var text = ""
    private var needsComma = false

    func object(_ body: () -> Void) {
        separate()
        text += "{"
        needsComma = false
        body()
        text += "}"
        needsComma = true
    }

    func array<Element>(_ elements: [Element], _ body: (Element) -> Void) {
        separate()
        text += "["
        needsComma = false
        for element in elements { body(element) }
        text += "]"
        needsComma = true
    }

    func key(_ name: String) {
        separate()
        appendString(name)
        text += ":"
        needsComma = false
    }

    func field(_ name: String, _ value: Int) {
        key(name)
        text += String(value)
        needsComma = true
    }

    func field(_ name: String, _ value: String) {
        key(name)
        string(value)
    }

    func field(_ name: String, _ value: Bool) {
        key(name)
        raw(value ? "true" : "false")
    }

    /// A JSON literal written as it is (a number, `true`, `null`).
    func raw(_ literal: String) {
        separate()
        text += literal
        needsComma = true
    }

    func string(_ value: String) {
        separate()
        appendString(value)
        needsComma = true
    }

    private func separate() {
        if needsComma { text += "," }
    }

    private func appendString(_ value: String) {
        text += JSONQuoting.quoted(value)
    }
}
