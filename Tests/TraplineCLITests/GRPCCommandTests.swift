import Foundation
import Testing
import TraplineTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// OTLP/gRPC through the binary on loopback, with real clients: the OpenTelemetry Python SDK's
/// gRPC exporters and grpcio send to the `otlp` receiver's `protocols.grpc`; the next hop is a
/// grpcio server (`otlp_next_hop.py --grpc`) fed by the `otlp` exporter.
@Suite(.serialized, .tags(.slow)) struct GRPCCommandTests {
    struct Running {
        var trapline: BackgroundProcess
        var hop: NextHop
        var grpcPort: Int
        var metricsPort: Int
        var directory: String
        var httpPort = 0

        func metrics() throws -> [String: Double] {
            let (status, _, body) = try SidecarCommandTests.request("http://127.0.0.1:\(metricsPort)/metrics")
            #expect(status == 200)
            return PipelineCommandTests.samples(String(decoding: body, as: UTF8.self))
        }

        func stop() {
            #expect(trapline.stop() == 0, "\(trapline.standardError)")
            hop.stop()
        }
    }

    /// Starts a gRPC next hop (`hopArguments`) and `trapline run` with an `otlp` receiver on
    /// gRPC (`grpcSettings` under `protocols.grpc`), a filter dropping `test.drop` spans and an
    /// `otlp` exporter (`exporterSettings` under it) to the hop.
    static func start(
        hopArguments: [String] = [], grpcSettings: String = "", exporterSettings: String = "",
        extensions: String = "", httpSettings: String? = nil, memoryLimitMiB: Int? = nil
    ) throws -> Running {
        let directory = try Fixtures.temporaryDirectory().path
        let hop = try NextHop(directory: directory, arguments: ["--grpc"] + hopArguments)
        let config = """
            receivers:
              otlp:
                protocols:
                  grpc:
                    endpoint: 127.0.0.1:0
            \(grpcSettings)
            \(httpSettings.map { "      http:\n        endpoint: 127.0.0.1:0\n" + $0 } ?? "")
            \(extensions.isEmpty ? "" : "extensions:\n" + extensions)
            processors:
            \(memoryLimitMiB.map { "  memory_limiter: {check_interval: 100ms, limit_mib: \($0)}" } ?? "")
              filter:
                trace_conditions:
                  - 'attributes["test.drop"] == true'
            exporters:
              otlp:
                endpoint: 127.0.0.1:\(hop.port)
                tls:
                  insecure: true
                retry_on_failure:
                  initial_interval: 100ms
                  max_interval: 1s
            \(exporterSettings)
              prometheus:
                endpoint: 127.0.0.1:0
            service:
              extensions: [\(extensions.isEmpty ? "" : "bearertokenauth/in, bearertokenauth/out")]
              pipelines:
                traces:
                  receivers: [otlp]
                  processors: [\(memoryLimitMiB == nil ? "" : "memory_limiter, ")filter]
                  exporters: [otlp, prometheus]
                logs:
                  receivers: [otlp]
                  exporters: [otlp]
            """
        try config.write(toFile: directory + "/grpc.yaml", atomically: true, encoding: .utf8)
        let (trapline, port) = try ListeningTrapline.start(
            config: directory + "/grpc.yaml", ["--shutdown-timeout", "20"])
        return Running(
            trapline: trapline, hop: hop, grpcPort: port("otlp grpc"), metricsPort: port("prometheus"),
            directory: directory, httpPort: port("otlp"))
    }

    /// Runs `Tests/Scripts/otlp_grpc_client.py` with `arguments`; its stdout.
    static func client(_ arguments: [String]) throws -> String {
        let result = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", Fixtures.root.appendingPathComponent("Tests/Scripts/otlp_grpc_client.py").path] + arguments)
        return String(decoding: result.standardOutput, as: UTF8.self) + result.standardError
    }

    static func waitFor(_ running: Running, _ condition: ((spans: Int, logs: Int, requests: Int)) -> Bool) -> Bool {
        FileChanges.wait(in: running.directory, seconds: 30) { condition(running.hop.received) }
    }

    /// Acceptance (issue 25): the Python SDK's OTLP/gRPC exporters send spans and log records
    /// (each compression the SDK offers: gzip, deflate and none); every record reaches the gRPC
    /// next hop through the `otlp` exporter but the filtered ones, and /metrics keeps the
    /// accounting.
    @Test(arguments: ["gzip", "deflate", "none"]) func sdkSendsTracesAndLogsOverGRPC(compression: String) throws {
        let running = try Self.start()
        defer { running.stop() }
        let output = try Self.client(["sdk", String(running.grpcPort), "230", "12", "20", compression])
        #expect(output.contains("exported traces=True logs=True"), "\(output)")
        #expect(Self.waitFor(running) { $0.spans == 210 && $0.logs == 12 }, "\(running.hop.counted)")
        let samples = try running.metrics()
        #expect(samples["trapline_records_received_total"] == 242)
        #expect(PipelineCommandTests.sum(samples, "trapline_records_filtered_total") == 20)
        #expect(SidecarCommandTests.accountingHolds(samples))
        #expect(samples["trapline_exporter_sent_records_total{exporter=\"otlp\"}"] == 222)
    }

    /// Acceptance (issue 25): grpcio sends what an SDK would not: an undecodable request gets
    /// INVALID_ARGUMENT, one over `max_recv_msg_size_mib` RESOURCE_EXHAUSTED, two messages on the
    /// unary Export INVALID_ARGUMENT, a gzip message that inflates past the limit
    /// RESOURCE_EXHAUSTED (each counted as rejected), a span with a bad trace id a
    /// `partial_success`, and a signal with no pipeline UNIMPLEMENTED; the good records around
    /// them go on.
    @Test func malformedAndOversizedRequestsGetOTLPStatusCodes() throws {
        let running = try Self.start(grpcSettings: "        max_recv_msg_size_mib: 1")
        defer { running.stop() }
        let output = try Self.client([
            "raw", String(running.grpcPort), "valid", "malformed", "oversized", "partial", "metrics", "valid", "twice",
            "bomb",
        ])
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.count == 8, "\(output)")
        guard lines.count == 8 else { return }
        #expect(lines[0] == "valid OK rejected=0")
        #expect(lines[1].hasPrefix("malformed INVALID_ARGUMENT length"), "\(lines[1])")
        #expect(lines[2].hasPrefix("oversized RESOURCE_EXHAUSTED grpc: received message larger than max"))
        #expect(lines[3] == "partial OK rejected=1")
        #expect(lines[4].hasPrefix("metrics UNIMPLEMENTED"))
        #expect(lines[5] == "valid OK rejected=0")
        #expect(lines[6].hasPrefix("twice INVALID_ARGUMENT Export takes one message"), "\(lines[6])")
        #expect(
            lines[7].hasPrefix("bomb RESOURCE_EXHAUSTED grpc: received message after decompression larger than max"))
        // 10 + 10 valid, 9 of the partial request; the malformed, oversized, two-message and
        // bomb requests count one each.
        #expect(Self.waitFor(running) { $0.spans == 29 }, "\(running.hop.counted)")
        let samples = try running.metrics()
        #expect(samples["trapline_records_received_total"] == 34)
        #expect(PipelineCommandTests.sum(samples, "trapline_records_rejected_total") == 5)
        #expect(SidecarCommandTests.accountingHolds(samples))
    }

    /// Under load the receiver refuses before reading: with a sending queue of one request and
    /// a slow next hop, concurrent requests get RESOURCE_EXHAUSTED with a RetryInfo of 1 s (the
    /// OTLP clients' signal to retry), and every accepted one arrives.
    @Test func fullQueueAnswersResourceExhaustedWithRetryInfo() throws {
        let running = try Self.start(
            hopArguments: ["--delay", "1"],
            exporterSettings: "    sending_queue: {queue_size: 1, num_consumers: 1}")
        defer { running.stop() }
        let output = try Self.client(["burst", String(running.grpcPort), "6"])
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.count == 6, "\(output)")
        let accepted = lines.filter { $0.hasPrefix("OK ") }.count
        let refused = lines.filter { $0 == "RESOURCE_EXHAUSTED 1" }.count
        #expect(accepted >= 1 && refused >= 1 && accepted + refused == 6, "\(output)")
        #expect(Self.waitFor(running) { $0.spans == accepted * 100 }, "\(running.hop.counted)")
        let samples = try running.metrics()
        #expect(samples["trapline_exporter_sent_records_total{exporter=\"otlp\"}"] == Double(accepted * 100))
    }

    /// The `otlp` exporter retries what OTLP calls retryable: a next hop answering UNAVAILABLE
    /// with RetryInfo twice still gets every span, the retries counted.
    @Test func exporterRetriesUnavailableAndHonoursRetryInfo() throws {
        let running = try Self.start(hopArguments: ["--unavailable", "2"])
        defer { running.stop() }
        let output = try Self.client(["raw", String(running.grpcPort), "valid", "valid", "valid"])
        #expect(output.split(separator: "\n").allSatisfy { $0 == "valid OK rejected=0" }, "\(output)")
        #expect(Self.waitFor(running) { $0.spans == 30 }, "\(running.hop.counted)")
        let samples = try running.metrics()
        #expect((samples["trapline_exporter_retries_total{exporter=\"otlp\"}"] ?? 0) >= 2)
        #expect(samples["trapline_exporter_sent_records_total{exporter=\"otlp\"}"] == 30)
    }

    /// A next hop that refuses for good (INVALID_ARGUMENT) is not retried: its records are
    /// counted as rejected downstream.
    @Test func exporterCountsPermanentRefusals() throws {
        let running = try Self.start(hopArguments: ["--reject-all"])
        defer { running.stop() }
        _ = try Self.client(["raw", String(running.grpcPort), "valid", "valid"])
        let deadline = Date().addingTimeInterval(20)
        var samples: [String: Double] = [:]
        while Date() < deadline {
            samples = try running.metrics()
            if samples["trapline_exporter_rejected_records_total{exporter=\"otlp\"}"] == 20 { break }
            usleep(100_000)
        }
        #expect(samples["trapline_exporter_rejected_records_total{exporter=\"otlp\"}"] == 20)
        #expect(samples["trapline_exporter_retries_total{exporter=\"otlp\"}"] == 0)
    }

    /// Issue 24's last item: `replay` into a gRPC backend through the `otlp` exporter, waiting
    /// for every send to be answered; the report counts what was sent.
    @Test func replayIntoAGRPCBackend() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let hop = try NextHop(directory: directory, arguments: ["--grpc", "--unavailable", "1"])
        defer { hop.stop() }
        let input = Fixtures.root.appendingPathComponent("Fixtures/generated/shop-traces.otlp").path
        let config = """
            receivers:
              file:
                include: [\(input)]
            exporters:
              otlp:
                endpoint: http://127.0.0.1:\(hop.port)
                retry_on_failure: {initial_interval: 100ms}
            service:
              pipelines:
                traces:
                  receivers: [file]
                  exporters: [otlp]
            """
        try config.write(toFile: directory + "/replay.yaml", atomically: true, encoding: .utf8)
        let result = try ProcessRunner.run(
            ProcessRunner.traplineBinary, ["replay", "--config", directory + "/replay.yaml", "-q", input])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(hop.received.spans == 2000, "\(hop.counted)")
    }

    /// `bearertokenauth` (the Collector's names): receivers refuse a request without the token
    /// (gRPC UNAUTHENTICATED, HTTP 401 with `WWW-Authenticate`; health checks stay open), and the
    /// `otlp` exporter sends its own token to a next hop that requires it.
    @Test func bearerTokensAreRequiredAndSent() throws {
        let directory = try Fixtures.temporaryDirectory().path
        try "secret-in\n".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        let running = try Self.start(
            hopArguments: ["--require-token", "secret-out"],
            grpcSettings: "        auth: {authenticator: bearertokenauth/in}",
            exporterSettings: "    auth: {authenticator: bearertokenauth/out}",
            extensions: """
                  bearertokenauth/in: {filename: \(directory)/token}
                  bearertokenauth/out: {token: secret-out}
                """,
            httpSettings: "        auth: {authenticator: bearertokenauth/in}")
        defer { running.stop() }
        #expect(try Self.client(["auth", String(running.grpcPort)]) == "UNAUTHENTICATED\n")
        #expect(try Self.client(["auth", String(running.grpcPort), "wrong"]) == "UNAUTHENTICATED\n")
        #expect(try Self.client(["auth", String(running.grpcPort), "secret-in"]) == "OK\n")
        let url = "http://127.0.0.1:\(running.httpPort)/v1/traces"
        let (refused, headers, _) = try SidecarCommandTests.request(
            url, method: "POST", headers: ["Content-Type": "application/x-protobuf"], body: [])
        #expect(refused == 401 && headers["www-authenticate"] == "Bearer")
        let (accepted, _, _) = try SidecarCommandTests.request(
            url, method: "POST",
            headers: ["Content-Type": "application/x-protobuf", "Authorization": "Bearer secret-in"], body: [])
        #expect(accepted == 200)
        let (health, _, _) = try SidecarCommandTests.request("http://127.0.0.1:\(running.httpPort)/healthz")
        #expect(health == 200)
        #expect(Self.waitFor(running) { $0.spans == 10 }, "\(running.hop.counted)")
    }

    /// A `memory_limiter` above its limit refuses gRPC as it refuses HTTP (one admission):
    /// RESOURCE_EXHAUSTED with a RetryInfo of 1 s, before the message is decoded; its refusals
    /// counted.
    @Test func aMemoryLimiterAboveItsLimitRefusesWithResourceExhausted() throws {
        // 1 MiB: less than the process's own anonymous memory (see the OTLP/HTTP test).
        let running = try Self.start(memoryLimitMiB: 1)
        defer { running.stop() }
        let output = try Self.client(["burst", String(running.grpcPort), "1"])
        #expect(output == "RESOURCE_EXHAUSTED 1\n", "\(output)")
        let samples = try running.metrics()
        #expect((samples[#"trapline_memory_limiter_refused_total{processor="memory_limiter"}"#] ?? 0) >= 1)
        #expect(running.hop.received.spans == 0)
    }

    /// Real captures (Fixtures/corpus: the OTLP repository's and opentelemetry-rust's examples,
    /// read by upb into protobuf) sent over gRPC come out of a proto file exporter equal in
    /// meaning, compared by upb.
    @Test(arguments: [
        ("traces", "otel-proto/trace.json"), ("traces", "otel-rust/traces.json"), ("logs", "otel-proto/logs.json"),
        ("logs", "otel-rust/logs.json"),
    ])
    func corpusCapturesRoundTripOverGRPC(signal: String, capture: String) throws {
        let directory = try Fixtures.temporaryDirectory().path
        let scripts = Fixtures.root.appendingPathComponent("Tests/Scripts").path
        let input = Fixtures.root.appendingPathComponent("Fixtures/corpus/otlp/" + capture).path
        let python = URL(fileURLWithPath: "/usr/bin/env")
        let converted = try ProcessRunner.run(
            python, ["python3", scripts + "/otlp_json_to_proto.py", signal, input, directory + "/in.otlp"])
        #expect(converted.status == 0, "\(converted.standardError)")
        let config = """
            receivers:
              otlp: {protocols: {grpc: {endpoint: 127.0.0.1:0}}}
            exporters:
              file: {path: \(directory)/out.otlp, format: proto}
            service:
              pipelines:
                \(signal): {receivers: [otlp], exporters: [file]}
            """
        try config.write(toFile: directory + "/corpus.yaml", atomically: true, encoding: .utf8)
        let (trapline, port) = try ListeningTrapline.start(config: directory + "/corpus.yaml")
        let sent = try Self.client(["file", String(port("otlp grpc")), signal, directory + "/in.otlp"])
        #expect(sent.hasPrefix("sent "), "\(sent)")
        #expect(trapline.stop() == 0)
        let compared = try ProcessRunner.run(
            python,
            [
                "python3", scripts + "/otlp_equal.py", signal, directory + "/in.otlp", "length-prefixed",
                directory + "/out.otlp", "length-prefixed",
            ])
        #expect(compared.status == 0, "\(String(decoding: compared.standardOutput, as: UTF8.self))")
    }
}
