import Foundation
import Testing
@_spi(Plumbing) import Trapline
import TraplineCore
import TraplineStages
import TraplineTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// One output router and one TER tally serve replay and the sidecar alike.
@Suite struct OutputRoutesTests {
    static let yaml = """
        receivers: {stdin: }
        processors:
          traps:
            rules:
              - {class: server_error, when: 'attributes["http.response.status_code"] >= 500', action: block}
        exporters: {stdout: }
        service: {pipelines: {traces: {receivers: [stdin], processors: [traps], exporters: [stdout]}}}
        """

    @Test func theTallyCountsEventsAndWidensTheWindow() {
        var tally = TrapEscapeTally()
        #expect(tally.rate(configuredDensityPerSecond: nil).value == nil)
        tally.count(blocked: true)
        tally.count([
            TrapLedger.Event(
                row: 0, trapClass: TrapClass(rawValue: "server_error"), blocked: false, evidence: "", remedy: ""),
            TrapLedger.Event(
                row: 1, trapClass: TrapClass(rawValue: "server_error"), blocked: true, evidence: "", remedy: ""),
        ])
        tally.observe(earliest: 5_000_000_000, latest: 7_000_000_000)
        var other = TrapEscapeTally()
        other.count(blocked: false)
        other.observe(earliest: 1_000_000_000, latest: 2_000_000_000)
        tally.add(other)
        #expect(tally.identified == 4)
        #expect(tally.blocked == 2)
        let estimated = tally.rate(configuredDensityPerSecond: nil)
        #expect(estimated.windowSeconds == 6)
        #expect(estimated.value == 0.5)
        // 2 blocked in 6 s where 1 per second was expected.
        #expect(tally.rate(configuredDensityPerSecond: 1).value == 2.0 / 6.0)
    }

    /// A device that fails every write (`/dev/full`), made in `directory` as root so the test
    /// never touches the machine's own node.
    static func fullDevice(in directory: String) -> String {
        guard getuid() == 0 else { return "/dev/full" }
        let path = directory + "/full"
        return mknod(path, S_IFCHR | 0o666, dev_t(7) | dev_t(1) << 8) == 0 ? path : "/dev/full"
    }

    /// The sidecar's file exporter that fails: what it did not take is `export_failed`, as in a
    /// replay, and the TER tally still counts every trap event.
    @Test func aFailedSidecarExporterCountsWhatItLost() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let loaded = ConfigLoader.load(yaml: Self.yaml, file: "pipeline.yaml")
        #expect(loaded.diagnostics.isEmpty)
        let route = OutputRoute(
            name: "file", destination: .file(Self.fullDevice(in: directory)), format: .proto, signals: [.traces])
        let pipeline = try RequestPipeline(loaded: loaded, routes: [route])
        let bytes = try Fixtures.bytes("generated/shop-traces.otlp")
        let length = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
        let outcome = pipeline.process(Array(bytes[4..<(4 + length)]), json: false, signal: .traces, source: "test")
        #expect(outcome.records.forwarded > 0)  // the receiver answers for the pipeline, not the file
        #expect(pipeline.outputFailure != nil)
        let report = pipeline.report()
        #expect(report.records.isBalanced)
        #expect(report.records.forwarded == 0)
        #expect(report.rejectedByReason["export_failed"] == outcome.records.forwarded)
        #expect(report.trapEscapeRate?.identified == outcome.trapEvents.count)
        #expect(report.exitStatus == 74)
    }
}
