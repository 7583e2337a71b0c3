import Foundation
import Testing
@_spi(Plumbing) import Trapline
import TraplineCore
import TraplineStages
import TraplineTestSupport

/// Replays every input in `Fixtures/regressions/` and checks the counts in its `EXPECTED.tsv`.
@Suite struct RegressionTests {
    struct Expectation: Sendable, CustomTestStringConvertible {
        var file: String
        var received: Int
        var forwarded: Int
        var rejected: Int
        var reason: String
        var testDescription: String { file }
    }

    static let expectations: [Expectation] = {
        let table = (try? String(contentsOf: Fixtures.url("regressions/EXPECTED.tsv"), encoding: .utf8)) ?? ""
        return table.split(separator: "\n").dropFirst().map { line in
            let cells = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return Expectation(
                file: cells[0], received: Int(cells[1])!, forwarded: Int(cells[2])!, rejected: Int(cells[3])!,
                reason: cells[4])
        }
    }()

    @Test func everyRegressionInputHasAnExpectation() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Fixtures.path("regressions"))
            .filter { $0 != "EXPECTED.tsv" && $0 != "fuzz" && !$0.hasSuffix(".md") }
        #expect(Set(files) == Set(Self.expectations.map(\.file)))
    }

    @Test(arguments: expectations)
    func regressionReplaysAsExpected(expectation: Expectation) {
        let report = Replay(
            options: ReplayOptions(inputs: [Fixtures.path("regressions/" + expectation.file)], outputFormat: .none)
        ).run()
        #expect(report.records.isBalanced)
        #expect(report.records.received == expectation.received)
        #expect(report.records.forwarded == expectation.forwarded)
        #expect(report.records.rejected == expectation.rejected)
        let reasons = expectation.reason.split(separator: ",").map(String.init)
        #expect(report.rejections.map(\.error.reason.name) == reasons)
        // Every forwarded record is in the output: replaying the output forwards as many.
        let output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "regression-\(UUID().uuidString).otlp"
        ).path
        let written = Replay(
            options: ReplayOptions(inputs: [Fixtures.path("regressions/" + expectation.file)], output: .file(output))
        ).run()
        #expect(written.records == report.records)
        let again = Replay(options: ReplayOptions(inputs: [output], outputFormat: .none)).run()
        #expect(again.records.forwarded == report.records.forwarded)
    }

    /// What the text fuzz target found (`regressions/fuzz/text/`): each input splits into the
    /// records the plain reference gives, whole and trickled.
    @Test(arguments: Fixtures.files(under: "regressions/fuzz/text", suffixes: [""]))
    func textSplitterFindingHolds(file: String) throws {
        let bytes = try Fixtures.bytes(file)
        #expect(TextSplitCheck.problem(bytes) == nil)
        #expect(BuildLogScanCheck.problem(Array(bytes.dropFirst(2))) == nil)
    }

    /// The text target's second check on every build log of the corpus (its seeds).
    @Test func buildLogScanCheckHoldsOnTheCorpus() throws {
        for file in Fixtures.files(under: "corpus/buildlogs", suffixes: [".log"]) {
            #expect(BuildLogScanCheck.problem(try Fixtures.bytes(file)) == nil, "\(file)")
        }
    }

    @Test func everyFuzzTargetWithFindingsIsReplayed() throws {
        // Findings of the text target are replayed above, of the differential target by
        // DifferentialTests, of the config target by ConfigLoaderTests, of the decode target by
        // MetricLosingPointsTests.
        let targets = try FileManager.default.contentsOfDirectory(atPath: Fixtures.path("regressions/fuzz"))
        #expect(Set(targets) == ["text", "differential", "config", "decode"])
        func names(_ target: String) -> [String] {
            Fixtures.files(under: "regressions/fuzz/" + target, suffixes: [""]).map {
                String($0.split(separator: "/").last!)
            }
        }
        #expect(names("text").count == 4)
        // Each of these has its own test: a new finding needs one too.
        #expect(
            names("differential") == [
                "bool-value-as-bytes.pb", "field-number-zero.pb", "group-in-array-value.pb",
                "group-in-unknown-field.pb", "overlong-varint.pb", "resource-twice.pb", "six-byte-tag.pb",
            ])
        #expect(names("config") == ["duplicate-list-keys.yaml", "lone-cr-line-breaks.yaml", "long-key-regex.yaml"])
        #expect(names("decode") == ["metric-losing-points.pb"])
    }
}
