import Foundation
import TraplineTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A loopback OTLP/HTTP next hop for the tests (`Tests/Scripts/otlp_next_hop.py`): counts the
/// spans, log records and requests it accepts, and with `bodies` notes each log record's body
/// with the time it arrived.
struct NextHop {
    let process: BackgroundProcess
    let port: Int
    /// Where it keeps `received <spans> <log records> <requests>`.
    let countFile: String
    let bodiesFile: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts it in `directory` with `arguments` (`--flaky 7`, `--delay 0.2` …) and waits for its
    /// port.
    init(directory: String, arguments: [String] = [], bodies: Bool = false) throws {
        countFile = directory + "/next-hop.txt"
        bodiesFile = directory + "/bodies.txt"
        process = try BackgroundProcess(
            "/usr/bin/env",
            [
                "python3", Fixtures.root.appendingPathComponent("Tests/Scripts/otlp_next_hop.py").path, "--count",
                countFile,
            ] + (bodies ? ["--bodies", bodiesFile] : []) + arguments)
        guard process.wait(until: { output, _ in output.contains("\n") }) else {
            throw Failure(description: "the next hop did not start: \(process.standardError)")
        }
        port = Int(process.standardOutput.split(separator: "\n").first ?? "") ?? 0
    }

    /// Stops it; it keeps nothing to flush, so at once.
    func stop() { _ = process.stop(SIGKILL) }

    /// Its count line, `received <spans> <log records> <requests> <data points>`.
    var counted: String { (try? String(contentsOfFile: countFile, encoding: .utf8)) ?? "" }

    /// Spans, log records and requests accepted so far.
    var received: (spans: Int, logs: Int, requests: Int) {
        let fields = counted.split(separator: " ").map { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        func field(_ index: Int) -> Int { fields.count > index ? fields[index] ?? 0 : 0 }
        return (field(1), field(2), field(3))
    }

    /// Metric data points accepted so far.
    var dataPoints: Int {
        let fields = counted.split(separator: " ").map { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return fields.count > 4 ? fields[4] ?? 0 : 0
    }

    /// Every body received so far with its arrival time, in arrival order.
    var bodies: [(arrived: Double, body: String)] {
        let text = (try? String(contentsOfFile: bodiesFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let space = line.firstIndex(of: " "), let arrived = Double(line[..<space]) else { return nil }
            return (arrived, String(line[line.index(after: space)...]))
        }
    }

    /// The sequence numbers of the `seq N at T` lines received.
    var sequenceNumbers: [Int] { bodies.compactMap { Self.sequence(of: $0.body) } }

    static func sequence(of line: some StringProtocol) -> Int? {
        let parts = line.split(separator: " ")
        return parts.count >= 2 && parts[0] == "seq" ? Int(parts[1]) : nil
    }
}
