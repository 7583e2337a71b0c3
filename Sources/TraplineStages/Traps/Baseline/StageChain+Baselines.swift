extension StageChain {
    /// The trap rules' baselines in the Prometheus text format: the series each keeps now
    /// (`trapline_trap_baseline_series`, a gauge: what bounds its memory) and the spans it kept
    /// no series for, every series being live at `max_series`
    /// (`trapline_trap_baseline_untracked_spans_total`), labelled by processor and rule. Empty
    /// without baselines. Allocates the text.
    public var baselineExposition: String {
        var rows: [(labels: String, baseline: TrapBaseline)] = []
        for case let stage as TrapStage in stages {
            for rule in stage.rules {
                guard let baseline = rule.baseline else { continue }
                let labels =
                    "processor=\"\(SpanMetricsTable.escape(stage.id))\",rule=\"\(SpanMetricsTable.escape(rule.name))\""
                rows.append((labels, baseline))
            }
        }
        guard !rows.isEmpty else { return "" }
        var text = """
            # HELP trapline_trap_baseline_series Series (service and span name pairs) a trap rule's baseline keeps.
            # TYPE trapline_trap_baseline_series gauge

            """
        for row in rows { text += "trapline_trap_baseline_series{\(row.labels)} \(row.baseline.seriesCount)\n" }
        text += """
            # HELP trapline_trap_baseline_untracked_spans_total Spans a trap rule's baseline kept no series for (max_series reached).
            # TYPE trapline_trap_baseline_untracked_spans_total counter

            """
        for row in rows {
            text += "trapline_trap_baseline_untracked_spans_total{\(row.labels)} \(row.baseline.untrackedSpans)\n"
        }
        return text
    }
}
