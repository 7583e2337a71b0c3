import Foundation
import Testing
import TraplineCore
import TraplineTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The edges where data was lost or misreported (issue 22), through the `trapline` binary: each
/// case asserts the exit status, the message, and `received = forwarded + filtered + blocked +
/// rejected` from the report.
@Suite(.tags(.slow)) struct EdgeDefectCommandTests {
    /// 20 length-prefixed requests of 100 spans.
    static let shop = Fixtures.path("generated/shop-traces.otlp")

    static func records(_ report: [String: Any]) throws -> [String: Int] {
        try #require(ReportJSON.records(report))
    }

    static func fileType(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
    }

    static var binary: String { ProcessRunner.traplineBinary.path }

    // MARK: 1. Output paths never replace what is not a regular file

    /// A device node like `/dev/full` or `/dev/null` (major 1, `minor`) in `directory`, made
    /// with mknod as root: a regression that renames over the output then breaks the test's own
    /// node, never the machine's `/dev` (an earlier build turned `/dev/full` into a file).
    /// Without root, the real device, which a non-root run cannot replace.
    static func device(_ name: String, minor: Int32, in directory: String) -> String {
        guard getuid() == 0 else { return "/dev/" + name }
        let path = directory + "/" + name
        // Linux's makedev for small numbers (a C macro Swift does not import): minor | major << 8.
        let device = dev_t(minor) | dev_t(1) << 8
        return mknod(path, S_IFCHR | 0o666, device) == 0 ? path : "/dev/" + name
    }

    /// A full device as the report (replay and gate): a clear write error, exit 74, and the device
    /// is still a character device (it became a regular file when the report was renamed over it).
    @Test(arguments: ["replay", "gate"]) func aReportOnADeviceIsWrittenInPlace(command: String) throws {
        let directory = try Fixtures.temporaryDirectory().path
        let full = Self.device("full", minor: 7, in: directory)
        let input = command == "gate" ? Fixtures.path("corpus/buildlogs") : Self.shop
        let run = try ProcessRunner.trapline([command, "-q", "--report-file", full, input])
        #expect(run.status == 74, "\(run.standardError)")
        #expect(run.standardError.contains("\(full): write failed: No space left on device"), "\(run.standardError)")
        #expect(Self.fileType(full) == S_IFCHR)
    }

    /// Every output path of a replay on a null device: all written, exit 0, still a device.
    @Test func everyOutputOnDevNullLeavesItADevice() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let null = Self.device("null", minor: 3, in: directory)
        let run = try ProcessRunner.trapline([
            "replay", "-q", "--report-file", null, "--metrics-file", null, "--output", null, Self.shop,
        ])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(Self.fileType(null) == S_IFCHR)
    }

    /// A FIFO gets the report through it (a reader sees it), and stays a FIFO; a symbolic link is
    /// followed (the file it names holds the report) and stays a link; `/dev/stdout` is the
    /// process's standard output.
    @Test func aFIFOASymlinkAndDevStdoutAreWrittenThrough() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let fifo = directory + "/report.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let target = directory + "/target.json"
        try "old".write(toFile: target, atomically: false, encoding: .utf8)
        let link = directory + "/link.json"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "target.json")
        let run = try ProcessRunner.bash(
            """
            timeout 30 cat '\(fifo)' > '\(directory)/from-fifo.json' &  # bounded: a FIFO replaced by a file has no writer
            '\(Self.binary)' replay -q --output-format none --report-file '\(fifo)' '\(Self.shop)' || exit 1
            wait
            '\(Self.binary)' replay -q --output-format none --report-file '\(link)' '\(Self.shop)' || exit 2
            '\(Self.binary)' replay -q --output-format none --report-file /dev/stdout '\(Self.shop)'
            """)
        #expect(run.status == 0, "\(run.standardError)")
        #expect(Self.fileType(fifo) == S_IFIFO)
        #expect(Self.fileType(link) == S_IFLNK)
        for path in [directory + "/from-fifo.json", target] {
            #expect(try Self.records(ReportJSON.load(path))["forwarded"] == 2000, "\(path)")
        }
        let printed = try JSONSerialization.jsonObject(with: run.standardOutput) as? [String: Any]
        #expect((printed?["records"] as? [String: Int])?["forwarded"] == 2000)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == [
                "from-fifo.json", "link.json", "report.fifo", "target.json",
            ])
    }

    // MARK: 2. Format detection from evidence across the input

    /// A capture with one damaged frame (in the middle, or the first byte of the first) stays
    /// spans: the damaged frame is one rejection at its offset, the others go on; never log
    /// records made of its bytes. JSON lines whose first line is broken stay JSON lines.
    @Test(arguments: ["middle-frame", "first-byte", "json-first-line"]) func aDamagedCaptureKeepsItsSignal(
        damage: String
    ) throws {
        let directory = try Fixtures.temporaryDirectory().path
        var bytes = try Fixtures.bytes("generated/shop-traces.otlp")
        var expectedOffset = 4
        var expectedReason = "invalid_wire_type"
        var input = directory + "/damaged.otlp"
        switch damage {
        case "middle-frame":
            var position = 0
            for _ in 0..<10 {
                let length =
                    Int(bytes[position]) << 24 | Int(bytes[position + 1]) << 16 | Int(bytes[position + 2]) << 8
                    | Int(bytes[position + 3])
                position += 4 + length
            }
            bytes[position + 4] = 0xFF
            expectedOffset = position + 4
        case "first-byte":
            bytes[4] = 0x0F
        default:
            // The capture as JSON lines, its first line cut at the front.
            let json = try ProcessRunner.trapline(["replay", "-q", "--output-format", "otlp-json", Self.shop])
            bytes = Array(json.standardOutput.dropFirst(7))
            input = directory + "/damaged.jsonl"
            expectedOffset = 0
            expectedReason = "invalid_json"
        }
        try Data(bytes).write(to: URL(fileURLWithPath: input))
        let report = directory + "/report.json"
        let run = try ProcessRunner.trapline(["replay", "--output-format", "none", "--report-file", report, input])
        #expect(run.status == 65, "\(run.standardError)")
        let object = try ReportJSON.load(report)
        let records = try Self.records(object)
        #expect(records == ["received": 1901, "forwarded": 1900, "filtered": 0, "blocked": 0, "rejected": 1])
        #expect(object["forwarded_by_signal"] as? [String: Int] == ["spans": 1900, "log_records": 0, "data_points": 0])
        let rejection = try #require((object["rejections"] as? [[String: Any]])?.first)
        #expect(rejection["offset"] as? Int == expectedOffset, "\(rejection)")
        #expect(rejection["reason"] as? String == expectedReason, "\(rejection)")
        #expect(run.standardError.contains("rejected \(input) at byte \(expectedOffset)"), "\(run.standardError)")
    }

    // MARK: 6. All-zero ids are data

    /// All-zero trace, span, parent and link ids (invalid in OTLP, but data) go through JSON and
    /// protobuf alike: Trapline's protobuf from the JSON equals upb's reading of the same JSON,
    /// and the JSON written back holds every id (a link came out as `{}`).
    @Test(arguments: [Signal.traces, .logs]) func allZeroIDsSurviveEveryEncoding(signal: Signal) throws {
        let directory = try Fixtures.temporaryDirectory().path
        let zero32 = String(repeating: "0", count: 32)
        let zero16 = String(repeating: "0", count: 16)
        let json =
            signal == .traces
            ? #"{"resourceSpans":[{"resource":{},"scopeSpans":[{"spans":[{"traceId":"\#(zero32)","spanId":"\#(zero16)","parentSpanId":"\#(zero16)","name":"zero","links":[{"traceId":"\#(zero32)","spanId":"\#(zero16)"}]},{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"set","links":[{}]}]}]}]}"#
            : #"{"resourceLogs":[{"resource":{},"scopeLogs":[{"logRecords":[{"traceId":"\#(zero32)","spanId":"\#(zero16)","body":{"stringValue":"zero"}},{"body":{"stringValue":"unset"}}]}]}]}"#
        try (json + "\n").write(toFile: directory + "/zero.json", atomically: true, encoding: .utf8)
        let toProto = try ProcessRunner.trapline([
            "replay", "-q", "--output-format", "otlp-proto", "--output", directory + "/ours.pb",
            directory + "/zero.json",
        ])
        #expect(toProto.status == 0, "\(toProto.standardError)")
        let reference = try ProcessRunner.python(
            "otlp_json_to_proto.py", [signal.rawValue, directory + "/zero.json", directory + "/reference.pb"])
        #expect(reference.status == 0, "\(reference.standardError)")
        let equal = try ProcessRunner.python(
            "otlp_equal.py",
            [
                signal.rawValue, directory + "/reference.pb", "length-prefixed", directory + "/ours.pb",
                "length-prefixed",
            ])
        #expect(equal.status == 0, "\(String(decoding: equal.standardOutput, as: UTF8.self)) \(equal.standardError)")
        // protobuf → JSON, and JSON → JSON: every id is there, as it came.
        for input in [directory + "/ours.pb", directory + "/zero.json"] {
            let back = try ProcessRunner.trapline(["replay", "-q", "--output-format", "otlp-json", input])
            let text = String(decoding: back.standardOutput, as: UTF8.self)
            let expected = signal == .traces ? 3 : 1  // span, link; log record
            #expect(text.components(separatedBy: "\"traceId\":\"\(zero32)\"").count - 1 == (signal == .traces ? 2 : 1))
            #expect(text.components(separatedBy: "\"\(zero16)\"").count - 1 == expected, "\(text)")
        }
    }

    // MARK: 7. Empty frames

    /// Runs of empty requests (zero bytes) are skipped at memory speed, not handed out one by
    /// one: 100 MiB of zeros as a file, gzip-compressed and on stdin, and zeros around a
    /// capture, give no frame and no record but the capture's; a gzip of 256 MiB of zeros stops at
    /// the decompression cap. The frame count is the check (26 million frames at 3 µs each took a
    /// minute); the time is shown in Benchmarks.
    @Test func runsOfEmptyFramesAreSkippedNotDecoded() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let run = try ProcessRunner.bash(
            """
            cd '\(directory)'
            head -c 100M /dev/zero > zeros.otlp
            gzip -1 -c zeros.otlp > zeros.otlp.gz
            { head -c 4000 /dev/zero; cat '\(Self.shop)'; head -c 4000000 /dev/zero; } > around.otlp
            head -c 256M /dev/zero | gzip -1 > bomb.gz
            # Empty varint frames written overlong (0x80 0x00) are no zero bytes: skipped one by
            # one, in a loop (recursion overflowed the stack on a fuzz seed).
            { for i in $(seq 2000); do printf '\\x80\\x00%.0s' $(seq 100); done; \
              cat '\(Fixtures.path("generated/shop-logs.varint.otlp"))'; } > overlong.otlp
            '\(Self.binary)' replay -q --output-format none --report-file overlong.json overlong.otlp || exit 6
            '\(Self.binary)' replay -q --output-format none --report-file file.json zeros.otlp || exit 1
            '\(Self.binary)' replay -q --output-format none --report-file gzip.json zeros.otlp.gz || exit 2
            '\(Self.binary)' replay -q --output-format none --report-file stdin.json - < zeros.otlp || exit 3
            '\(Self.binary)' replay -q --output-format none --report-file around.json around.otlp || exit 4
            cat around.otlp | '\(Self.binary)' replay -q --output-format none --report-file around-stdin.json - || exit 5
            '\(Self.binary)' replay -q --output-format none --max-decompressed-bytes 100000000 \
              --report-file bomb.json bomb.gz
            echo "bomb $?"
            """)
        #expect(run.status == 0, "\(run.standardError)")
        for name in ["file", "gzip", "stdin", "around", "around-stdin"] {
            let object = try ReportJSON.load(directory + "/\(name).json")
            let records = try Self.records(object)
            let expected = name.hasPrefix("around") ? 2000 : 0
            #expect(records["received"] == expected && records["forwarded"] == expected, "\(name): \(records)")
            #expect(object["frames"] as? Int == expected / 100, "\(name): empty frames were decoded one by one")
        }
        #expect(String(decoding: run.standardOutput, as: UTF8.self) == "bomb 65\n")
        let overlong = try ReportJSON.load(directory + "/overlong.json")
        #expect(try Self.records(overlong)["forwarded"] == 1000)
        #expect(
            overlong["forwarded_by_signal"] as? [String: Int] == ["spans": 0, "log_records": 1000, "data_points": 0])
        #expect(overlong["frames"] as? Int == 10, "the overlong empty frames were not skipped")
        let bomb = try ReportJSON.load(directory + "/bomb.json")
        #expect(bomb["rejected_by_reason"] as? [String: Int] == ["decompressed_too_large": 1])
    }

    // MARK: 15. The main job shows what Trapline is for

    /// The demo pipeline over the demo capture (what `Scripts/replay-demo.sh` runs, in release):
    /// the filter drops the probes, the transform removes personal data, k8sattributes enriches
    /// from the pod list, the runtime traps block and observe, and TER is computed.
    @Test func theDemoShowsEveryStageAtWork() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let run = try ProcessRunner.bash(
            """
            cd '\(Fixtures.root.path)'
            TRAPLINE_OUTPUT='\(directory)/out.otlp' \
            TRAPLINE_METRICS='\(directory)/demo.prom' '\(Self.binary)' replay -q --config Pipelines/demo.yaml \
              --report-file '\(directory)/report.json' Fixtures/generated/demo-shop.otlp.gz
            """)
        #expect(run.status == 0, "\(run.standardError)")
        let object = try ReportJSON.load(directory + "/report.json")
        #expect(
            try Self.records(object) == [
                "received": 1922, "forwarded": 1618, "filtered": 300, "blocked": 4, "rejected": 0,
            ])
        let stages = try #require(object["stages"] as? [[String: Any]])
        #expect(
            stages.map { $0["id"] as? String } == [
                "decode", "filter/probes", "transform/privacy", "k8sattributes", "traps/runtime", "encode",
            ])
        #expect(stages[3]["pods"] as? Int == 24 && stages[3]["association_misses"] as? Int == 1)
        let traps = try #require(object["traps"] as? [[String: Any]])
        #expect(
            traps.map { "\($0["class"]!) \($0["identified"]!) \($0["blocked"]!)" } == [
                // The minute-2 slow payment comes before its series has 100 spans: no baseline yet.
                "export_success_below_floor 1 1", "latency_slo_breach 1 0", "sampling_below_floor 1 0",
                "tls_handshake_failure 2 2", "waf_block_legitimate 1 1",
            ])
        let ter = try #require(object["ter"] as? [String: Any])
        #expect(abs((ter["value"] as? Double ?? 0) - 0.4008) < 0.001)
        // What went on: enriched, without e-mail addresses, statements masked, no probes.
        let json = try ProcessRunner.trapline(["replay", "-q", "--output-format", "otlp-json", directory + "/out.otlp"])
        let output = String(decoding: json.standardOutput, as: UTF8.self)
        #expect(output.contains("\"k8s.deployment.name\",\"value\":{\"stringValue\":\"e2e-deployment\"}"))
        #expect(!output.contains("@example.com") && !output.contains("/healthz") && output.contains("VALUES ('?'"))
    }

    // MARK: 3. Records that reach no exporter

    /// A pipeline file with `exporters: []` does not validate (as the Collector says), and the
    /// problem is reported where the empty list stands.
    @Test func aPipelineWithoutExportersDoesNotValidate() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let config = directory + "/no-exporters.yaml"
        try """
        receivers:
          stdin:
        exporters:
          stdout:
        service:
          pipelines:
            traces:
              receivers: [stdin]
              exporters: []
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let run = try ProcessRunner.trapline(["validate", "--config", config])
        #expect(run.status == 78)
        #expect(run.standardError.contains("no-exporters.yaml:9:"), "\(run.standardError)")
        #expect(run.standardError.contains("pipeline 'traces' has no exporters"), "\(run.standardError)")
        let replay = try ProcessRunner.trapline(["replay", "--config", config, Self.shop])
        #expect(replay.status == 78)
    }

    /// Logs replayed through a traces-only pipeline file: rejected as `no_pipeline`, not
    /// counted as forwarded; the spans beside them go on.
    @Test func recordsOfASignalNoPipelineTakesAreRejectedWithTheirOwnReason() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let config = directory + "/traces-only.yaml"
        try """
        receivers:
          stdin:
        exporters:
          file:
            path: \(directory)/out.jsonl
        service:
          pipelines:
            traces:
              receivers: [stdin]
              exporters: [file]
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let report = directory + "/report.json"
        let run = try ProcessRunner.trapline([
            "replay", "-q", "--config", config, "--report-file", report, Self.shop,
            Fixtures.path("generated/shop-logs.varint.otlp"),
        ])
        #expect(run.status == 65, "\(run.standardError)")
        let object = try ReportJSON.load(report)
        let records = try Self.records(object)
        #expect(records == ["received": 3000, "forwarded": 2000, "filtered": 0, "blocked": 0, "rejected": 1000])
        #expect(object["rejected_by_reason"] as? [String: Int] == ["no_pipeline": 1000])
        let rejection = try #require((object["rejections"] as? [[String: Any]])?.first)
        #expect((rejection["source"] as? String)?.hasSuffix("shop-logs.varint.otlp") == true)
        #expect((rejection["message"] as? String)?.contains("no pipeline takes records of this signal") == true)
    }

    // MARK: 4. SIGTERM and SIGINT

    /// SIGTERM in the middle of a replay of a large file: it stops reading, writes what it read
    /// and the report, leaves no temporary, and exits 0; the output holds exactly the records
    /// the report counts as forwarded.
    @Test(arguments: [SIGTERM, SIGINT]) func aStoppedReplayWritesItsReportAndOutput(signal: Int32) throws {
        let directory = try Fixtures.temporaryDirectory().path
        let input = directory + "/big.otlp"
        _ = try ProcessRunner.bash("for i in $(seq 200); do cat '\(Self.shop)'; done > '\(input)'")
        // The replay's output goes to a reader that holds it back until released, so the replay is
        // still running (blocked writing) when the signal comes: the signal is sent once the reader
        // has its first 100,000 bytes, and the reader is released after it.
        let run = try ProcessRunner.bash(
            """
            '\(Self.binary)' replay -q --report-file '\(directory)/report.json' --output-format otlp-json \
              --output - '\(input)' | { head -c 100000 > '\(directory)/head'; touch '\(directory)/held'; \
                until [ -e '\(directory)/released' ]; do sleep 0.05; done; cat > /dev/null; } &
            until [ -e '\(directory)/held' ]; do sleep 0.05; done
            pkill -\(signal) -f -x "\(Self.binary) replay -q --report-file \(directory)/report.json.*"
            touch '\(directory)/released'
            wait
            echo done
            """)
        #expect(run.status == 0, "\(run.standardError)")
        let object = try ReportJSON.load(directory + "/report.json")
        let records = try Self.records(object)
        #expect(ReportJSON.isBalanced(records))
        #expect(object["stopped_by_signal"] as? Bool == true, "\(records)")
        #expect(records["received"]! < 400_000, "the stop came after the whole input was read: \(records)")
        #expect(object["exit_status"] as? Int == 0)
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: directory)).contains { $0.contains(".tmp-") })
    }

    /// `run` reading stdin, stopped while a frame is half sent: exit 0, the frames before it go
    /// on, and the cut frame is counted as `interrupted`, not as damaged input.
    @Test func aFrameCutByTheStopIsInterruptedNotTruncated() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let report = directory + "/report.json"
        // The writer keeps stdin open after the cut frame; the stop comes once it has written
        // everything and the run has read it all (the pipe holds no byte: FIONREAD on the run's
        // stdin, opened through /proc).
        let unread =
            "import fcntl, os, struct, sys, termios; fd = os.open(f'/proc/{sys.argv[1]}/fd/0', os.O_RDONLY | os.O_NONBLOCK); "
            + "print(struct.unpack('i', fcntl.ioctl(fd, termios.FIONREAD, bytes(4)))[0])"
        let run = try ProcessRunner.bash(
            """
            { cat '\(Self.shop)'; head -c 3000 '\(Self.shop)'; touch '\(directory)/written'; \
              until [ -e '\(directory)/stopped' ]; do sleep 0.05; done; } 2> /dev/null \
              | '\(Self.binary)' run -q --report-file '\(report)' > /dev/null &
            run=$!
            for i in $(seq 400); do
              [ -e '\(directory)/written' ] && [ "$(python3 -c "\(unread)" $run 2> /dev/null)" = 0 ] && break
              sleep 0.05
            done
            kill -TERM $run
            touch '\(directory)/stopped'
            wait $run
            echo "status $?"
            """)
        #expect(String(decoding: run.standardOutput, as: UTF8.self).contains("status 0"), "\(run.standardError)")
        let object = try ReportJSON.load(report)
        let records = try Self.records(object)
        #expect(records == ["received": 2001, "forwarded": 2000, "filtered": 0, "blocked": 0, "rejected": 1])
        #expect(object["rejected_by_reason"] as? [String: Int] == ["interrupted": 1])
    }

    // MARK: 12. gzip faults, each by name

    /// Each gzip fault has its own reason and message; a member whose CRC fails gives none of
    /// its records; zero padding after the last member is accepted as gzip(1) accepts it.
    @Test(
        arguments: [
            (
                "crc", 65, 31, 30, "gzip_checksum_mismatch",
                "fails its CRC-32 or length check: none of its data was used"
            ),
            ("truncated", 65, 31, 30, "gzip_truncated", "the input was cut short"),
            ("garbage", 65, 51, 50, "gzip_trailing_garbage", "are neither gzip nor zero padding"),
            ("padding", 0, 50, 50, "", ""),
        ] as [(String, Int32, Int, Int, String, String)])
    func gzipFaultsAreToldApart(
        fault: String, status: Int32, received: Int, forwarded: Int, reason: String, message: String
    ) throws {
        let directory = try Fixtures.temporaryDirectory().path
        var gzip = try Fixtures.bytes("generated/multi-member.otlp.gz")
        switch fault {
        case "crc": gzip[gzip.count - 6] ^= 0xFF
        case "truncated": gzip.removeLast(600)  // inside the second member
        case "garbage": gzip += Array("not gzip".utf8)
        default: gzip += [UInt8](repeating: 0, count: 512)
        }
        let input = directory + "/damaged.otlp.gz"
        try Data(gzip).write(to: URL(fileURLWithPath: input))
        let report = directory + "/report.json"
        let run = try ProcessRunner.trapline(["replay", "--output-format", "none", "--report-file", report, input])
        #expect(run.status == status, "\(run.standardError)")
        let object = try ReportJSON.load(report)
        let records = try Self.records(object)
        #expect(ReportJSON.isBalanced(records))
        #expect(records["forwarded"] == forwarded && records["received"] == received, "\(records)")
        if !reason.isEmpty {
            #expect(object["rejected_by_reason"] as? [String: Int] == [reason: 1])
            #expect(run.standardError.contains(message), "\(run.standardError)")
        }
    }

    // MARK: 11. The report in sidecar mode

    /// `trapline run --report-file` in sidecar mode writes the report and prints the summary at
    /// shutdown: one good request (60 spans) and one that cannot be read are in it.
    @Test func theSidecarWritesItsReportAtShutdown() throws {
        let directory = try Fixtures.temporaryDirectory().path
        try """
        receivers:
          otlp:
            protocols:
              http:
                endpoint: 127.0.0.1:0
        exporters:
          file:
            path: \(directory)/out.jsonl
        service:
          pipelines:
            traces:
              receivers: [otlp]
              exporters: [file]
        """.write(toFile: directory + "/sidecar.yaml", atomically: true, encoding: .utf8)
        let run = try ProcessRunner.bash(
            """
            cd '\(directory)'
            '\(Self.binary)' run --config sidecar.yaml --report-file report.json 2> stderr.txt &
            pid=$!
            for i in $(seq 300); do grep -q 'listening:' stderr.txt && break; sleep 0.1; done
            port=$(sed -n 's/.*otlp on port \\([0-9]*\\).*/\\1/p' stderr.txt | head -n 1)
            curl -s -o /dev/null -w '%{http_code} ' -H 'Content-Type: application/x-protobuf' \
              --data-binary @'\(Fixtures.path("generated/shop-traces-single.pb"))' "http://127.0.0.1:$port/v1/traces"
            curl -s -o /dev/null -w '%{http_code} ' -H 'Content-Type: application/x-protobuf' \
              --data-binary 'not protobuf' "http://127.0.0.1:$port/v1/traces"
            kill -TERM $pid
            wait $pid
            echo "status $?"
            cat stderr.txt >&2
            """)
        #expect(String(decoding: run.standardOutput, as: UTF8.self) == "200 400 status 0\n", "\(run.standardError)")
        let object = try ReportJSON.load(directory + "/report.json")
        let records = try Self.records(object)
        #expect(records == ["received": 61, "forwarded": 60, "filtered": 0, "blocked": 0, "rejected": 1])
        #expect(object["exit_status"] as? Int == 0)
        #expect(run.standardError.contains("61 records received, 60 forwarded"), "\(run.standardError)")
    }

    // MARK: 5. Failed output writes

    /// Output to `/dev/full`, a file past `ulimit -f`, and a pipe whose reader leaves: the records
    /// not written are `export_failed`, not forwarded; the rest of the input is still read and
    /// counted; the report is written; exit 74.
    @Test(arguments: ["device", "file-size-limit", "broken-pipe"]) func recordsWhoseWriteFailedAreNotForwarded(
        fault: String
    ) throws {
        let directory = try Fixtures.temporaryDirectory().path
        let input = directory + "/big.otlp"
        _ = try ProcessRunner.bash("for i in $(seq 20); do cat '\(Self.shop)'; done > '\(input)'")
        let report = directory + "/report.json"
        let replay = "'\(Self.binary)' replay -q --report-file '\(report)'"
        let script: String
        switch fault {
        case "device":
            script = "\(replay) --output '\(Self.device("full", minor: 7, in: directory))' '\(input)'; echo $?"
        case "file-size-limit": script = "ulimit -f 100; \(replay) --output '\(directory)/out.otlp' '\(input)'; echo $?"
        default: script = "\(replay) --output - '\(input)' | head -c 10 > /dev/null; echo ${PIPESTATUS[0]}"
        }
        let run = try ProcessRunner.bash(script)
        #expect(String(decoding: run.standardOutput, as: UTF8.self) == "74\n", "\(run.standardError)")
        let object = try ReportJSON.load(report)
        let records = try Self.records(object)
        #expect(records["received"] == 40_000, "the rest of the input was not accounted for: \(records)")
        #expect(ReportJSON.isBalanced(records))
        let failed = (object["rejected_by_reason"] as? [String: Int])?["export_failed"] ?? 0
        #expect(failed > 0 && failed == records["rejected"], "\(records)")
        if fault != "broken-pipe" {
            // Nothing reached a device that takes nothing, nor a file that was never completed.
            #expect(records["forwarded"] == 0)
        }
        #expect((object["output"] as? [String: Any])?["error"] != nil)
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: directory)).contains { $0.contains(".tmp-") })
    }
}
