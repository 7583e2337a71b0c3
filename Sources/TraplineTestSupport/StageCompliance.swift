public import TraplineCore
public import TraplineStages

/// The check every stage must pass (STYLE.md, Tests): over real batches, every record that
/// reaches the stage is forwarded, filtered or blocked — exactly once — and what it drops is
/// gone from the mask.
public enum StageCompliance {
    /// Runs `stage` alone over `batches` and returns a description of each violation.
    public static func violations(of stage: any Stage, spans batches: [SpanBatch]) -> [String] {
        var problems: [String] = []
        let chain = StageChain([stage])
        for (index, batch) in batches.enumerated() {
            var batch = batch
            var mask = RowMask()
            var counts: [StageCounts] = []
            chain.run(&batch, mask: &mask, counts: &counts)
            let stageCounts = counts[0]
            if !stageCounts.isBalanced { problems.append("batch \(index): \(stageCounts) does not balance") }
            if stageCounts.received != batch.count {
                problems.append("batch \(index): saw \(stageCounts.received) of \(batch.count)")
            }
            if stageCounts.forwarded != mask.keptCount {
                problems.append("batch \(index): forwarded \(stageCounts.forwarded), mask keeps \(mask.keptCount)")
            }
            let accounting = BatchAccounting.counts(for: batch, mask: mask, stages: counts)
            if !accounting.isBalanced { problems.append("batch \(index): \(accounting) does not balance") }
        }
        return problems
    }
}
