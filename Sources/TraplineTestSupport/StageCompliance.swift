public import TraplineCore
public import TraplineStages

/// The check every stage must pass (STYLE.md, Tests): over real batches of spans and of log
/// records, every record that reaches the stage is forwarded, filtered, blocked or rejected —
/// exactly once — what it drops is gone from the mask and counted, what it did not see stays
/// dropped, and each trap event names a row the stage saw.
///
/// The stage is called directly, not through `StageChain` (which fills in `received` and
/// `forwarded` itself and only `assert`s the balance), so a stage that miscounts is a finding
/// here, never a crash.
public enum StageCompliance {
    /// Runs `stage` alone over `spans` and `logs` and returns a description of each violation.
    ///
    /// Each batch is run twice: with every row kept, and with every third row already dropped
    /// (as an earlier stage would), which the stage must neither see nor count.
    public static func violations(of stage: any Stage, spans: [SpanBatch] = [], logs: [LogBatch] = []) -> [String] {
        var problems: [String] = []
        for (index, batch) in spans.enumerated() {
            problems += check(stage, batch, label: "spans \(index)")
        }
        for (index, batch) in logs.enumerated() {
            problems += check(stage, batch, label: "logs \(index)")
        }
        return problems
    }

    /// The checks of one batch, with all rows kept and with some already dropped.
    static func check<Batch: StageBatch>(_ stage: any Stage, _ original: Batch, label: String) -> [String] {
        var problems: [String] = []
        for predropped in [false, true] {
            var batch = original
            var mask = RowMask()
            mask.reset(count: batch.count)
            if predropped {
                for row in stride(from: 0, to: batch.count, by: 3) { _ = mask.drop(row) }
            }
            let before = mask
            var counts = StageCounts()
            counts.received = mask.keptCount
            var traps = TrapLedger()
            Batch.process(&batch, by: stage, mask: &mask, counts: &counts, traps: &traps)
            counts.forwarded = mask.keptCount
            let place = predropped ? label + " (every third row dropped before)" : label
            problems += balance(counts, place: place)
            if batch.count != original.count {
                problems.append("\(place): the stage changed the row count from \(original.count) to \(batch.count)")
            }
            if let row = (0..<batch.count).first(where: { !before.kept[$0] && mask.kept[$0] }) {
                problems.append("\(place): row \(row) was dropped before the stage and kept after it")
            }
            let unseen = traps.events.filter { Int($0.row) >= batch.count || !before.kept[Int($0.row)] }
            if let event = unseen.first {
                problems.append("\(place): trap event on row \(event.row), which the stage did not see")
            }
            // A stage that keeps a trap ledger lists each row it blocked there (quarantine
            // routes write them); a custom stage may block without one.
            let keepsLedger = !traps.events.isEmpty || !traps.blockedRows.isEmpty
            if keepsLedger && counts.blocked != traps.blockedRows.count {
                problems.append("\(place): blocked \(counts.blocked) rows, the ledger lists \(traps.blockedRows.count)")
            }
            if !predropped {
                let accounting = BatchAccounting.counts(for: batch, mask: mask, stages: [counts])
                if !accounting.isBalanced { problems.append("\(place): \(accounting) does not balance") }
            }
        }
        return problems
    }

    /// Rows that left the mask are exactly the rows counted as filtered, blocked or rejected.
    static func balance(_ counts: StageCounts, place: String) -> [String] {
        let dropped: Int = counts.received - counts.forwarded
        let counted: Int = counts.filtered + counts.blocked + counts.rejected
        guard dropped != counted else { return [] }
        return ["\(place): \(dropped) rows left the mask, \(counted) counted (\(counts))"]
    }
}
