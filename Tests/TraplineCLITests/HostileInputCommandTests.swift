import Foundation
import Testing
import TraplineTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Hostile inputs and output faults through the `trapline` binary (issue 9): each case asserts
/// the exact message (source, offset, reason), the exit status, and the accounting equation
/// from the report file.
@Suite(.tags(.slow)) struct HostileInputCommandTests {
    /// 20 length-prefixed requests of 100 spans.
    static let shop = Fixtures.path("generated/shop-traces.otlp")

    /// Runs `trapline replay` with a report file; the result and the report's record counts.
    static func replay(_ arguments: [String], in directory: URL) throws -> (ProcessRunner.Result, [String: Int]) {
        let report = directory.appendingPathComponent("report-\(UUID().uuidString).json").path
        let run = try ProcessRunner.trapline(["replay", "--report-file", report] + arguments)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report)))
        let records = try #require((object as? [String: Any])?["records"] as? [String: Int])
        return (run, records)
    }

    static func write(_ bytes: [UInt8], to url: URL) throws { try Data(bytes).write(to: url) }

    static func varint(_ value: Int) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        repeat {
            let byte = UInt8(value & 0x7F)
            value >>= 7
            out.append(value == 0 ? byte : byte | 0x80)
        } while value != 0
        return out
    }

    static func field(_ number: Int, _ payload: [UInt8]) -> [UInt8] {
        varint(number << 3 | 2) + varint(payload.count) + payload
    }

    /// An ExportTraceServiceRequest with one span carrying `count` attributes `k0`, `k1` … each
    /// with the string `value` (appended in place: a million small arrays took long in debug).
    static func request(attributes count: Int, value: [UInt8]) -> [UInt8] {
        var span = field(1, Array(repeating: 1, count: 16)) + field(2, Array(repeating: 2, count: 8))
        span += field(5, Array("hostile".utf8))
        span.reserveCapacity(span.count + count * (20 + value.count))
        let anyValue = field(1, value)
        for index in 0..<count {
            let key = Array("k\(index)".utf8)
            let keyValue = varint(1 << 3 | 2) + varint(key.count) + key + varint(2 << 3 | 2) + varint(anyValue.count)
            span += varint(9 << 3 | 2) + varint(keyValue.count + anyValue.count) + keyValue
            span.append(contentsOf: anyValue)
        }
        return field(1, field(2, field(2, span)))
    }

    /// `copies` of the shop stream back to back, written without building them in memory.
    static func repeatedShop(_ copies: Int, at url: URL) throws {
        let shop = try Data(contentsOf: URL(fileURLWithPath: Self.shop))
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        for _ in 0..<copies { handle.write(shop) }
        try handle.close()
    }

    @Test func anEmptyFileIsReadAndHoldsNothing() throws {
        let directory = try Fixtures.temporaryDirectory()
        let empty = directory.appendingPathComponent("empty.otlp")
        try Self.write([], to: empty)
        let (run, records) = try Self.replay(["--output-format", "none", empty.path], in: directory)
        #expect(run.status == 0, "\(run.standardError)")
        #expect(records == ["received": 0, "forwarded": 0, "filtered": 0, "blocked": 0, "rejected": 0])
    }

    @Test func aDirectoryWithNothingInItIsNamed() throws {
        let directory = try Fixtures.temporaryDirectory()
        let empty = directory.appendingPathComponent("nothing")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let (run, records) = try Self.replay(["--output-format", "none", empty.path], in: directory)
        #expect(run.status == 66)
        #expect(run.standardError.contains("trapline: \(empty.path): directory holds no file"), "\(run.standardError)")
        #expect(records["received"] == 0)
    }

    @Test func aFIFOIsReadToItsEnd() throws {
        let directory = try Fixtures.temporaryDirectory()
        let fifo = directory.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let report = directory.appendingPathComponent("report.json").path
        let run = try ProcessRunner.bash(
            "cat '\(Self.shop)' > '\(fifo)' & '\(ProcessRunner.traplineBinary.path)' replay -q --output-format none "
                + "--report-file '\(report)' '\(fifo)'; status=$?; wait; exit $status")
        #expect(run.status == 0, "\(run.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report)))
        #expect(
            (object as? [String: Any])?["records"] as? [String: Int] == [
                "received": 2000, "forwarded": 2000, "filtered": 0, "blocked": 0, "rejected": 0,
            ])
    }

    /// Unreadable for the user running it (root reads anything, so root runs it as nobody).
    @Test func anUnreadableFileIsNamedWithTheReason() throws {
        let directory = try Fixtures.temporaryDirectory()
        let secret = directory.appendingPathComponent("secret.otlp")
        try Self.write(try Fixtures.bytes("generated/shop-traces.otlp"), to: secret)
        #expect(chmod(secret.path, 0) == 0)
        #expect(chmod(directory.path, 0o755) == 0)
        let command = ["replay", "--output-format", "none", secret.path]
        let run =
            getuid() == 0
            ? try ProcessRunner.run(
                URL(fileURLWithPath: "/usr/bin/setpriv"),
                ["--reuid=65534", "--regid=65534", "--clear-groups", ProcessRunner.traplineBinary.path] + command)
            : try ProcessRunner.trapline(command)
        #expect(run.status == 66)
        #expect(run.standardError.contains("trapline: \(secret.path): open failed: Permission denied"))
    }

    @Test func zstdInputIsRejectedWithWhatToDo() throws {
        let directory = try Fixtures.temporaryDirectory()
        let zstd = directory.appendingPathComponent("traces.otlp.zst")
        try Self.write([0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x58, 0x00, 0x00], to: zstd)
        let (run, records) = try Self.replay(["--output-format", "none", zstd.path], in: directory)
        #expect(run.status == 65)
        #expect(
            run.standardError.contains(
                "rejected \(zstd.path) at byte 0: zstd-compressed input is not supported; decompress it first (zstd -d)"
            ))
        #expect(records["rejected"] == 1 && ReportJSON.isBalanced(records))
    }

    /// A frame prefix of 2^32 - 1 after a good frame, and a field length of 2^32 - 1: rejected
    /// by what they declare, with nothing allocated for it (peak memory stays small).
    @Test func declaredLengthsUpTo2To32AreCheckedNotAllocated() throws {
        let directory = try Fixtures.temporaryDirectory()
        let shop = try Fixtures.bytes("generated/shop-traces.otlp")
        let first = 4 + (Int(shop[0]) << 24 | Int(shop[1]) << 16 | Int(shop[2]) << 8 | Int(shop[3]))
        let stream = directory.appendingPathComponent("huge-prefix.otlp")
        try Self.write(Array(shop[..<first]) + [0xFF, 0xFF, 0xFF, 0xFF, 0x0A, 0x00], to: stream)
        let timing = directory.appendingPathComponent("time.txt").path
        let report = directory.appendingPathComponent("report.json").path
        let run = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/time"),
            [
                "-f", "%M", "-o", timing, ProcessRunner.traplineBinary.path, "replay", "--output-format", "none",
                "--report-file", report, stream.path,
            ])
        #expect(run.status == 65)
        #expect(
            run.standardError.contains(
                "rejected \(stream.path) at byte \(first): frame of 4294967295 bytes is over the 268435456-byte limit"))
        // time(1) writes "Command exited with non-zero status 65" first, the figure last.
        let timeLines = try String(contentsOfFile: timing, encoding: .utf8).split(separator: "\n")
        let peakKiB = timeLines.last.flatMap { Int($0) }
        #expect((peakKiB ?? .max) < 128 << 10, "peak RSS \(peakKiB ?? -1) KiB")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report)))
        #expect(
            (object as? [String: Any])?["records"] as? [String: Int] == [
                "received": 101, "forwarded": 100, "filtered": 0, "blocked": 0, "rejected": 1,
            ])

        let field = directory.appendingPathComponent("huge-field.pb")
        try Self.write([0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x0A, 0x00], to: field)
        let (fieldRun, records) = try Self.replay(
            ["--input-format", "otlp-proto", "--output-format", "none", field.path], in: directory)
        #expect(fieldRun.status == 65)
        #expect(
            fieldRun.standardError.contains(
                "rejected \(field.path) at byte 1: length 4294967295 runs past the end of its message (2 bytes left)"))
        #expect(records["rejected"] == 1 && ReportJSON.isBalanced(records))
    }

    /// One span with 1,000,000 attributes, and one with a 60 MiB attribute: kept whole, and
    /// copied through byte for byte (behind the output's 4-byte length prefix).
    @Test(arguments: [("a million attributes", 1_000_000, 1), ("one 60 MiB attribute", 1, 60 << 20)])
    func hugeSpansPassThroughWhole(name: String, attributes: Int, valueBytes: Int) throws {
        let directory = try Fixtures.temporaryDirectory()
        let request = Self.request(
            attributes: attributes, value: [UInt8](repeating: UInt8(ascii: "x"), count: valueBytes))
        let input = directory.appendingPathComponent("huge.pb")
        try Self.write(request, to: input)
        let output = directory.appendingPathComponent("out.otlp")
        let (run, records) = try Self.replay(["--output", output.path, input.path], in: directory)
        #expect(run.status == 0, "\(run.standardError)")
        #expect(records == ["received": 1, "forwarded": 1, "filtered": 0, "blocked": 0, "rejected": 0])
        let written = try Data(contentsOf: output)
        #expect(written.count == request.count + 4)
        #expect(written.dropFirst(4) == Data(request), "\(name) changed on the way through")
    }

    /// The input is cut to 5 MB while a replay of 378 MB reads it (its output held back by a
    /// slow reader): no SIGBUS, the frames before the cut are kept, and what was lost is
    /// rejected with a reason that says what happened.
    @Test func aFileTruncatedWhileReplayedEndsInARejectionNotACrash() throws {
        let directory = try Fixtures.temporaryDirectory()
        let input = directory.appendingPathComponent("shrinking.otlp")
        try Self.repeatedShop(400, at: input)
        let report = directory.appendingPathComponent("report.json").path
        let run = try ProcessRunner.bash(
            """
            '\(ProcessRunner.traplineBinary.path)' replay -q --report-file '\(report)' --output - '\(input.path)' \
              | { head -c 1000 > /dev/null; touch '\(directory.path)/held'; \
                  until [ -e '\(directory.path)/released' ]; do sleep 0.05; done; cat > /dev/null; } &
            until [ -e '\(directory.path)/held' ]; do sleep 0.05; done
            truncate -s 5000000 '\(input.path)'
            touch '\(directory.path)/released'
            wait
            """)
        #expect(run.status == 0, "\(run.standardError)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        let records = try #require(object["records"] as? [String: Int])
        #expect(ReportJSON.isBalanced(records))
        // The frames read before the cut (5 MB: over 100 requests) are kept; each frame whose
        // head was read before the cut but whose bytes were gone when a worker read them is one
        // rejection (how many depends on how far reading had got).
        #expect(records["forwarded"]! >= 10_000 && records["forwarded"]! % 100 == 0)
        let rejections = try #require(object["rejections"] as? [[String: Any]])
        #expect(records["rejected"]! >= 1 && rejections.count == records["rejected"], "\(records)")
        for rejection in rejections {
            #expect(rejection["reason"] as? String == "input_shrank")
            #expect((rejection["message"] as? String)?.hasPrefix("the file shrank while being read") == true)
        }
    }

    /// The same cut made to JSON lines, which are read from a memory mapping (protobuf streams
    /// are read with `pread`): reading the mapping past the file's new end used to raise SIGBUS
    /// and end the process with no report. Now the lines before the cut are kept and each line
    /// read from the gone bytes is rejected as `input_shrank`.
    @Test func aJSONLinesFileTruncatedWhileReplayedEndsInARejectionNotACrash() throws {
        let directory = try Fixtures.temporaryDirectory()
        let lines = directory.appendingPathComponent("shop.jsonl")
        let (convert, converted) = try Self.replay(
            ["-q", "--output-format", "otlp-json", "-o", lines.path, Self.shop], in: directory)
        #expect(convert.status == 0, "\(convert.standardError)")
        let one = try Data(contentsOf: lines)
        let spansPerCopy = try #require(converted["forwarded"])
        let input = directory.appendingPathComponent("shrinking.jsonl")
        _ = FileManager.default.createFile(atPath: input.path, contents: nil)
        let handle = try FileHandle(forWritingTo: input)
        for _ in 0..<((64 << 20) / one.count + 1) { handle.write(one) }
        try handle.close()
        let report = directory.appendingPathComponent("report.json").path
        let run = try ProcessRunner.bash(
            """
            { '\(ProcessRunner.traplineBinary.path)' replay -q --report-file '\(report)' --output - '\(input.path)' \
                | { head -c 1000 > /dev/null; touch '\(directory.path)/held'; \
                    until [ -e '\(directory.path)/released' ]; do sleep 0.05; done; cat > /dev/null; }
              echo "${PIPESTATUS[0]}" > '\(directory.path)/status'; } &
            until [ -e '\(directory.path)/held' ]; do sleep 0.05; done
            truncate -s 5000003 '\(input.path)'
            touch '\(directory.path)/released'
            wait
            cat '\(directory.path)/status'
            """)
        // 65: some input rejected (134 or 135 was the SIGBUS).
        #expect(String(decoding: run.standardOutput, as: UTF8.self) == "65\n", "\(run.standardError)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        let records = try #require(object["records"] as? [String: Int])
        #expect(ReportJSON.isBalanced(records))
        // The lines read before the cut are kept (5 MB holds two copies of the shop and more);
        // each line read from where the file's bytes were gone is one rejection that says so.
        #expect(one.count * 2 < 5_000_003 && records["forwarded"]! >= 2 * spansPerCopy, "\(records)")
        let rejections = try #require(object["rejections"] as? [[String: Any]])
        #expect(records["rejected"]! >= 1 && rejections.count == records["rejected"], "\(records)")
        for rejection in rejections {
            #expect(rejection["reason"] as? String == "input_shrank", "\(rejection)")
        }
    }

    /// Output into a read-only directory: a clear error, exit 74, and nothing left behind (the
    /// output is written to a temporary beside it and renamed only when complete).
    @Test func outputToAReadOnlyDirectoryFailsCleanly() throws {
        let directory = try Fixtures.temporaryDirectory()
        let readOnly = directory.appendingPathComponent("read-only")
        try FileManager.default.createDirectory(at: readOnly, withIntermediateDirectories: true)
        // Root writes anywhere a mode allows nobody to, so root gets a read-only mount instead.
        let mounted = getuid() == 0
        if mounted {
            let mount = try ProcessRunner.bash("mount -t tmpfs -o ro,size=1m tmpfs '\(readOnly.path)'")
            #expect(mount.status == 0, "\(mount.standardError)")
        } else {
            #expect(chmod(readOnly.path, 0o555) == 0)
        }
        defer { if mounted { _ = try? ProcessRunner.bash("umount '\(readOnly.path)'") } }
        let output = readOnly.appendingPathComponent("out.otlp").path
        let run = try ProcessRunner.trapline(["replay", "--output", output, Self.shop])
        #expect(run.status == 74)
        let reason = mounted ? "Read-only file system" : "Permission denied"
        #expect(run.standardError.contains(output) && run.standardError.contains(reason), "\(run.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: readOnly.path).isEmpty)
    }

    /// Piped into `head`, which stops reading: the replay is not killed by SIGPIPE; it says the
    /// pipe broke, counts what it could not write (`export_failed`) and exits 74.
    @Test func aReaderThatStopsEndsTheReplayWithAnAccountedWriteFailure() throws {
        let directory = try Fixtures.temporaryDirectory()
        let input = directory.appendingPathComponent("big.otlp")
        try Self.repeatedShop(50, at: input)
        let run = try ProcessRunner.bash(
            "'\(ProcessRunner.traplineBinary.path)' replay --output - '\(input.path)' | head -c 100 > /dev/null; "
                + "echo \"${PIPESTATUS[0]}\"")
        #expect(String(decoding: run.standardOutput, as: UTF8.self) == "74\n")
        #expect(run.standardError.contains("-: write failed: Broken pipe"), "\(run.standardError)")
        #expect(run.standardError.contains("[export_failed,"), "\(run.standardError)")
    }

    /// SIGKILL in the middle of writing: the destination never holds a partial frame (it is
    /// absent until the rename), and the next run writes it whole.
    @Test func sigkillLeavesNoPartialOutput() throws {
        let directory = try Fixtures.temporaryDirectory()
        let input = directory.appendingPathComponent("big.otlp")
        let shop = try Fixtures.bytes("generated/shop-traces.otlp")
        try Self.repeatedShop(100, at: input)
        let output = directory.appendingPathComponent("out.otlp").path
        let run = try ProcessRunner.bash(
            "'\(ProcessRunner.traplineBinary.path)' replay -q --output-format otlp-json --output '\(output)' "
                + "'\(input.path)' & pid=$!; "
                // Killed once the temporary beside the destination exists: in the middle of writing.
                + "until ls '\(directory.path)'/out.otlp.tmp-* > /dev/null 2>&1; do "
                + "kill -0 $pid 2> /dev/null || break; sleep 0.02; done; kill -KILL $pid; wait $pid; echo $?")
        #expect(String(decoding: run.standardOutput, as: UTF8.self) == "137\n")  // 128 + SIGKILL
        #expect(!FileManager.default.fileExists(atPath: output))
        let again = try ProcessRunner.trapline(["replay", "-q", "--output", output, Self.shop])
        #expect(again.status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == Data(shop))
    }
}
