import Foundation
import TraplineCore
public import TraplineStages

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// `trapline gate`: the build-log traps of whole logs, for CI (`go build ./... 2>&1 | trapline gate`).
///
/// Each log is read whole (its evidence may come after what it explains) and scanned with the built-in
/// `go-crossbuild` pack, every rule with `action: block`. Each non-empty line is one record (as a replay of
/// the log as text counts them): the lines of a
/// blocked trap are counted as blocked, the others as forwarded, so the report keeps
/// `received = forwarded + filtered + blocked + rejected`.
@_spi(Plumbing) public struct BuildLogGate: Sendable {
    /// A trap found in one input.
    public struct Event: Sendable, Hashable {
        /// The input as named on the command line (`-` for stdin).
        public var source: String
        /// The trap.
        public var trap: BuildLogTrap
        /// Whether the rule's action blocks it (fails the gate).
        public var blocked: Bool
    }

    /// Reads the packages the logs name (for rules that need sources).
    public var scanner: GoBuildLogScanner

    /// Makes a gate.
    public init(scanner: GoBuildLogScanner = GoBuildLogScanner(sources: FileSystemGoSources())) {
        self.scanner = scanner
    }

    /// Scans `inputs` (files, directories read recursively in sorted order, or `-` for standard
    /// input; gzip-compressed or not) and reports what it found.
    ///
    /// - Returns: the report (traps, TER, accounting, unreadable inputs) and every event in input order.
    public func run(inputs: [String]) -> (report: ReplayReport, events: [Event]) {
        var report = ReplayReport()
        report.isGate = true
        var events: [Event] = []
        var tally = TrapEscapeTally()
        // Directories are read as replay reads them: every file below, in sorted order.
        let expansion = InputPaths.expand(inputs)
        report.inputFailures = expansion.failures
        report.emptyDirectories = expansion.emptyDirectories
        for input in expansion.files {
            var bytes: [UInt8]
            do {
                bytes = try Self.readAll(input)
            } catch {
                report.inputFailures.append(error)
                continue
            }
            report.filesRead += 1
            if bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B {
                // A gzipped log (CI artifacts often are), inflated with the replay's cap.
                do throws(DecodeError) {
                    bytes = try GzipBuffer.inflate(bytes, limit: ReadOptions().maxDecompressedBytes)
                } catch {
                    report.records += RecordCounts(received: 1, forwarded: 0, filtered: 0, blocked: 0, rejected: 1)
                    report.record(Rejection(source: input, error: error, records: 1), cap: .max)
                    continue
                }
            }
            report.inputBytes += bytes.count
            let text = String(decoding: bytes, as: UTF8.self)
            let analysis = scanner.analyze(text)
            let traps = analysis.traps
            for skipped in analysis.skipped {
                report.skippedRules.append("\(input == "-" ? "<stdin>" : input):\(skipped.line): \(skipped.advice)")
            }
            var blockedLines = Set<Int>()
            for trap in traps {
                // The built-in pack blocks every class it knows.
                events.append(Event(source: input, trap: trap, blocked: true))
                blockedLines.formUnion(trap.evidenceLines)
                tally.count(blocked: true)
            }
            let lines = GoBuildLogScanner.recordLines(in: text)
            let blocked = blockedLines.intersection(lines).count
            report.records += RecordCounts(
                received: lines.count, forwarded: lines.count - blocked, filtered: 0, blocked: blocked, rejected: 0)
            report.logRecordsForwarded += lines.count - blocked
        }
        report.traps = events.map {
            ReplayReport.TrapEventRow(
                source: $0.source, line: $0.trap.line, trapClass: $0.trap.trapClass, blocked: $0.blocked,
                evidence: $0.trap.evidence, remedy: $0.trap.remedy, context: $0.trap.context)
        }
        report.trapTally = tally
        report.settleTrapEscapeRate(densityPerSecond: nil)
        return (report, events)
    }

    /// The whole of a file, or of standard input for `-`.
    static func readAll(_ path: String) throws(IOFailure) -> [UInt8] {
        let descriptor = path == "-" ? STDIN_FILENO : open(path, O_RDONLY)
        guard descriptor >= 0 else { throw IOFailure(path: path, operation: "open", errorNumber: errno) }
        defer { if path != "-" { close(descriptor) } }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return bytes }
            if count < 0 {
                if errno == EINTR { continue }
                throw IOFailure(path: path, operation: "read", errorNumber: errno)
            }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }
}
