import Foundation
import Testing
import TraplineTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Following files with real programs (issue 24): a writer process appends, `logrotate`
/// rotates, `trapline run` follows into a loopback OTLP/HTTP next hop, and is killed.
@Suite(.tags(.slow), .serialized) struct FollowingCommandTests {
    struct Failure: Error, CustomStringConvertible {
        var text: String
        var description: String { text }
    }

    /// A pipeline following `directory/app.log*` into the next hop, with checkpoints in
    /// `directory/storage`.
    static func pipeline(
        directory: String, port: Int, pattern: String = "app.log*", pollInterval: String = "100ms"
    ) throws -> String {
        try FileManager.default.createDirectory(atPath: directory + "/storage", withIntermediateDirectories: true)
        let path = directory + "/follow.yaml"
        try """
        receivers:
          filelog:
            include: ["\(directory)/\(pattern)"]
            start_at: beginning
            poll_interval: \(pollInterval)
            storage: file_storage
        extensions:
          file_storage:
            directory: \(directory)/storage
        exporters:
          otlphttp:
            endpoint: http://127.0.0.1:\(port)
            compression: none
            retry_on_failure: {initial_interval: 100ms, max_interval: 1s}
        service:
          extensions: [file_storage]
          pipelines:
            logs: {receivers: [filelog], exporters: [otlphttp]}

        """.write(toFile: path, atomically: true, encoding: .utf8)
        let validate = try ProcessRunner.trapline(["validate", "--config", path])
        guard validate.status == 0 else { throw Failure(text: validate.standardError) }
        return path
    }

    static func follow(_ config: String) throws -> BackgroundProcess {
        try BackgroundProcess(ProcessRunner.traplineBinary.path, ["run", "--config", config])
    }

    static func writer(directory: String, count: Int, interval: Double) throws -> BackgroundProcess {
        try BackgroundProcess(
            "/usr/bin/env",
            [
                "python3", Fixtures.root.appendingPathComponent("Tests/Scripts/steady_writer.py").path, "--path",
                directory + "/app.log", "--count", "\(count)", "--interval", "\(interval)", "--pid-file",
                directory + "/writer.pid",
            ])
    }

    /// Lines a writer appends reach the next hop within a second of being written.
    @Test func appendedLinesReachTheNextHopWithinASecond() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let hop = try NextHop(directory: directory, bodies: true)
        defer { hop.stop() }
        let trapline = try Self.follow(try Self.pipeline(directory: directory, port: hop.port))
        defer { _ = trapline.stop(SIGKILL) }
        let writer = try Self.writer(directory: directory, count: 30, interval: 0.1)
        #expect(writer.wait { output, _ in output.contains("done") })
        #expect(FileChanges.eventually(seconds: 20) { hop.bodies.count >= 30 }, "\(hop.bodies.count)")
        let latencies = hop.bodies.compactMap { received -> Double? in
            guard let written = received.body.split(separator: " ").last.flatMap({ Double($0) }) else { return nil }
            return received.arrived - written
        }.sorted()
        #expect(latencies.count == 30)
        // Loose: poll_interval is 100 ms; a second is the bound a next hop should see.
        #expect((latencies.last ?? 9) < 1.0, "seconds from write to next hop: \(latencies)")
        print("follow latency: p50 \(latencies[latencies.count / 2]) s, max \(latencies.last ?? 0) s")
        #expect(trapline.stop() == 0, "\(trapline.standardError)")
        #expect(hop.sequenceNumbers == Array(0..<30))
    }

    /// The kernel's change notification wakes the follower: with a `poll_interval` of a minute,
    /// a file created in a directory made after the start (as a pod's log directory is) and the
    /// lines appended to it still reach the next hop within a second.
    @Test func writesWakeTheFollowerBeforeItsPollInterval() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let hop = try NextHop(directory: directory, bodies: true)
        defer { hop.stop() }
        let config = try Self.pipeline(
            directory: directory, port: hop.port, pattern: "pods/*/app.log*", pollInterval: "60s")
        let trapline = try Self.follow(config)
        defer { _ = trapline.stop(SIGKILL) }
        // Started, its first scan (at the start) done, before the directory exists; were it
        // later, the scan would find the directory and the writes would still have to wake it.
        Thread.sleep(forTimeInterval: 1)
        try FileManager.default.createDirectory(
            atPath: directory + "/pods/web-1", withIntermediateDirectories: true)
        Thread.sleep(forTimeInterval: 0.2)
        let writer = try Self.writer(directory: directory + "/pods/web-1", count: 10, interval: 0.1)
        #expect(writer.wait { output, _ in output.contains("done") })
        #expect(FileChanges.eventually(seconds: 5) { hop.bodies.count >= 10 }, "\(hop.bodies.count)")
        let latencies = hop.bodies.compactMap { received -> Double? in
            received.body.split(separator: " ").last.flatMap { Double($0) }.map { received.arrived - $0 }
        }
        #expect(
            latencies.count == 10 && latencies.allSatisfy { $0 < 1.0 }, "seconds from write to next hop: \(latencies)")
        #expect(trapline.stop() == 0, "\(trapline.standardError)")
        #expect(hop.sequenceNumbers == Array(0..<10))
    }

    /// `logrotate` (Debian) rotating under a steady writer, by `create` (the writer reopens on
    /// SIGHUP from postrotate) and by `copytruncate`: nothing lost, nothing twice.
    @Test(arguments: ["create", "copytruncate"]) func logrotateUnderASteadyWriter(mode: String) throws {
        let logrotate = ["/usr/sbin/logrotate", "/sbin/logrotate"].first { FileManager.default.fileExists(atPath: $0) }
        let binary = try #require(logrotate, "logrotate is installed by Scripts/install-test-deps.sh")
        let directory = try Fixtures.temporaryDirectory().path
        chmod(directory, 0o755)
        let hop = try NextHop(directory: directory, bodies: true)
        defer { hop.stop() }
        let trapline = try Self.follow(try Self.pipeline(directory: directory, port: hop.port))
        defer { _ = trapline.stop(SIGKILL) }
        let postrotate =
            mode == "create" ? "    postrotate\n        kill -HUP $(cat \(directory)/writer.pid)\n    endscript\n" : ""
        try """
        \(directory)/app.log {
            \(mode)
            rotate 100
            nocompress
            missingok
        \(postrotate)}

        """.write(toFile: directory + "/logrotate.conf", atomically: true, encoding: .utf8)
        let count = 3000
        let writer = try Self.writer(directory: directory, count: count, interval: 0.002)
        var rotations = 0
        while !writer.standardOutput.contains("done") && rotations < 6 {
            usleep(700_000)
            let rotate = try ProcessRunner.run(
                URL(fileURLWithPath: binary),
                ["-f", "-s", directory + "/logrotate.state", directory + "/logrotate.conf"])
            #expect(rotate.status == 0, "\(rotate.standardError)")
            rotations += 1
        }
        #expect(writer.wait(seconds: 60) { output, _ in output.contains("done") })
        #expect(rotations >= 3, "the writer finished before 3 rotations")
        // What the files on disk hold: every line, unless copytruncate's own window between
        // the copy and the truncation took some (logrotate documents that it may lose data).
        var onDisk: [Int] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasPrefix("app.log") {
            let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            onDisk += text.split(separator: "\n").compactMap { NextHop.sequence(of: $0) }
        }
        onDisk.sort()
        #expect(Set(onDisk).count == onDisk.count, "a line twice on disk")
        #expect(
            FileChanges.eventually(seconds: 30) { Set(onDisk).isSubset(of: hop.sequenceNumbers) },
            "\(hop.sequenceNumbers.count) of \(onDisk.count)")
        usleep(500_000)  // anything more (a duplicate) would arrive now
        #expect(trapline.stop() == 0, "\(trapline.standardError)")
        let received = hop.sequenceNumbers.sorted()
        let missing = Set(onDisk).subtracting(received).sorted()
        var seen: Set<Int> = []
        let twice = received.filter { !seen.insert($0).inserted }
        // Every line on disk arrived once; lines written between logrotate's copy and its
        // truncation are on disk nowhere, but arrive when they were read before the truncation.
        #expect(
            missing.isEmpty && twice.isEmpty && Set(received).isSubset(of: 0..<count),
            "received \(received.count), on disk \(onDisk.count); missing \(missing.prefix(20)), twice \(twice.prefix(20))"
        )
        if mode == "create" {
            #expect(received == Array(0..<count))
        } else {
            #expect(count - received.count <= count / 100, "\(count - received.count) lines lost by copytruncate")
        }
        print("logrotate \(mode): \(rotations) rotations, \(received.count) of \(count) lines delivered once each")
    }

    /// SIGKILL while lines are in flight, then a restart: every line arrives, and the only
    /// lines that arrive twice are ones sent after the last checkpoint (unacknowledged).
    @Test func sigkillThenRestartLosesNothing() throws {
        let directory = try Fixtures.temporaryDirectory().path
        // A slow hop (200 ms an answer) keeps a window in flight when the kill comes.
        let hop = try NextHop(directory: directory, arguments: ["--delay", "0.2"], bodies: true)
        defer { hop.stop() }
        let config = try Self.pipeline(directory: directory, port: hop.port)
        let count = 2000
        let writer = try Self.writer(directory: directory, count: count, interval: 0.001)
        defer { _ = writer.stop(SIGKILL) }
        let first = try Self.follow(config)
        #expect(FileChanges.eventually(seconds: 30) { hop.sequenceNumbers.count >= 300 })
        _ = first.stop(SIGKILL)
        let checkpoint = try String(contentsOfFile: directory + "/storage/receiver_filelog", encoding: .utf8)
        let acknowledgedLine = Self.checkpointLine(checkpoint)
        usleep(1_000_000)  // a request the hop was answering (200 ms) when the kill came lands
        let beforeKill = hop.sequenceNumbers
        #expect(writer.wait(seconds: 60) { output, _ in output.contains("done") })
        let second = try Self.follow(config)
        defer { _ = second.stop(SIGKILL) }
        #expect(FileChanges.eventually(seconds: 60) { Set(hop.sequenceNumbers).count >= count })
        usleep(500_000)
        #expect(second.stop() == 0, "\(second.standardError)")
        let received = hop.sequenceNumbers
        #expect(
            Set(received) == Set(0..<count), "missing: \(Set(0..<count).subtracting(received).sorted().prefix(10))")
        var seen: Set<Int> = []
        let twice = received.filter { !seen.insert($0).inserted }
        // Line N of the file is `seq N-1`: the checkpoint's line is the first not acknowledged.
        #expect(twice.allSatisfy { $0 >= acknowledgedLine - 1 }, "sent again though acknowledged: \(twice.prefix(10))")
        #expect(twice.allSatisfy { beforeKill.contains($0) })
        print(
            "SIGKILL: \(beforeKill.count) delivered before, \(twice.count) sent again (unacknowledged), \(count) in all"
        )
    }

    static func checkpointLine(_ json: String) -> Int {
        guard let data = json.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let files = object["files"] as? [[String: Any]]
        else { return 1 }
        return files.compactMap { $0["line"] as? Int }.max() ?? 1
    }

    /// `validate` names what is wrong with following settings.
    @Test func followingSettingsAreChecked() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let cases: [(String, String)] = [
            ("receivers: {file: {include: [x], start_at: end}}", "'start_at' applies to followed files"),
            (
                "receivers: {filelog: {include: [x], storage: file_storage}}",
                "storage 'file_storage' is not a defined extension"
            ),
            (
                "receivers: {filelog: {include: [x], storage: file_storage}}\nextensions: {file_storage: {directory: /tmp}}",
                "is not listed in service.extensions"
            ),
            ("receivers: {filelog: {include: [x], encoding: ebcdic}}", "encoding 'ebcdic' is not supported"),
            ("receivers: {filelog: {include: [x], multiline: {line_start_pattern: '('}}}", "line_start_pattern"),
            (
                "receivers: {filelog: {include: [x]}}\nextensions: {file_storage: {directory: /nonexistent/dir}}",
                "directory '/nonexistent/dir' does not exist"
            ),
        ]
        for (receivers, expected) in cases {
            let extensionsListed = receivers.contains("/nonexistent") ? "  extensions: [file_storage]\n" : ""
            try """
            \(receivers)
            exporters: {stdout: null}
            service:
            \(extensionsListed)  pipelines: {logs: {receivers: [\(receivers.contains("filelog") ? "filelog" : "file")], exporters: [stdout]}}

            """.write(toFile: directory + "/p.yaml", atomically: true, encoding: .utf8)
            let result = try ProcessRunner.trapline(["validate", "--config", directory + "/p.yaml"])
            #expect(result.status == 78)
            #expect(result.standardError.contains(expected), "\(expected): \(result.standardError)")
        }
    }
}
