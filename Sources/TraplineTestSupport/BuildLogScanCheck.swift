@_spi(Plumbing) import TraplineStages

/// Checks what the build-log scanner says about any text: it does not crash, reads the same
/// text the same way twice, and every trap and skipped rule points into the log (its line and
/// evidence lines are lines the log has; the trap's line is among its evidence; at most three
/// lines of context). Shared by the `text` fuzz target and the regression tests.
public enum BuildLogScanCheck {
    /// What is wrong with the scan of `input` (read as UTF-8, invalid bytes replaced), or nil.
    public static func problem(_ input: [UInt8]) -> String? {
        let log = String(decoding: input, as: UTF8.self)
        let scanner = GoBuildLogScanner(defaultHost: ("linux", "amd64"))
        let analysis = scanner.analyze(log)
        guard analysis == scanner.analyze(log) else { return "two scans of the same log differ" }
        // Line numbers as the scanner counts them: LF, CRLF and lone CR end a line.
        let lines = GoBuildLogScanner.lineCount(log)
        for trap in analysis.traps {
            guard (1...max(lines, 1)).contains(trap.line) else { return "trap at line \(trap.line) of \(lines)" }
            guard trap.evidenceLines.contains(trap.line) else { return "trap line \(trap.line) not among its evidence" }
            guard trap.evidenceLines.allSatisfy({ (1...lines).contains($0) }) else {
                return "evidence lines \(trap.evidenceLines) outside 1...\(lines)"
            }
            guard trap.context.count <= 3 else { return "\(trap.context.count) lines of context" }
        }
        for skipped in analysis.skipped where !(1...max(lines, 1)).contains(skipped.line) {
            return "skipped rule at line \(skipped.line) of \(lines)"
        }
        return nil
    }
}
