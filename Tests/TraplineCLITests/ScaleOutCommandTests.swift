import Foundation
import Testing
import TraplineTestSupport

/// Issue 28's scale-out proof on loopback: one agent (`trapline run`, OTLP/HTTP in,
/// `loadbalancing` out with the `k8s` resolver) and three gateways on 127.0.0.1, .2 and .3 (one
/// port, as pods of a Service have), each catching traps. Every span of a trace reaches one
/// gateway; taking a gateway out of the Service's endpoints moves only its traces; and a real
/// Prometheus scraping the four gives, with one PromQL expression each, the same accounting
/// totals and the same TER as one replay of everything the agent was sent.
@Suite(.serialized, .tags(.slow)) struct ScaleOutCommandTests {
    static let rules = """
        processors:
          traps:
            rules:
              - name: server-errors
                class: server_error
                when: 'status.code == STATUS_CODE_ERROR'
                action: block
              - name: slow-spans
                class: slow_span
                when: 'end_time - start_time > Duration("300ms")'
            quarantine: file/quarantine
        """

    /// The capture's requests (length-prefixed frames), to send one by one.
    static func requests(_ path: String) throws -> [[UInt8]] {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        var requests: [[UInt8]] = []
        var offset = 0
        while offset + 4 <= bytes.count {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            requests.append(Array(bytes[offset + 4..<offset + 4 + length]))
            offset += 4 + length
        }
        return requests
    }

    struct Gateway {
        var process: BackgroundProcess
        var metricsPort: Int
        var output: String
    }

    @Test func gatewaysBehindAnAgentAddUpToOneReplay() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let capture = Fixtures.path("generated/shop-traces.otlp")
        // Gateways: the first picks the gRPC port, the others take the same on their address.
        var gateways: [Gateway] = []
        defer { for gateway in gateways { _ = gateway.process.stop() } }
        var grpcPort = 0
        for index in 1...3 {
            let output = directory + "/gateway-\(index).jsonl"
            let config = directory + "/gateway-\(index).yaml"
            try """
            receivers:
              otlp:
                protocols:
                  grpc: {endpoint: "127.0.0.\(index):\(grpcPort)"}
                  http: {endpoint: "127.0.0.\(index):0"}
            \(Self.rules)
            exporters:
              file: {path: \(output), format: json}
              file/quarantine: {path: \(output).quarantine, format: json}
            service:
              pipelines:
                traces: {receivers: [otlp], processors: [traps], exporters: [file]}
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let (process, port) = try ListeningTrapline.start(config: config)
            if grpcPort == 0 { grpcPort = port("otlp grpc") }
            gateways.append(Gateway(process: process, metricsPort: port("otlp"), output: output))
        }
        #expect(grpcPort > 0)
        // The Service's endpoints, from a loopback Kubernetes API; .2 leaves when `drop` exists.
        let drop = directory + "/drop-gateway-2"
        let (api, apiPort, account) = try LoadBalancingCommandTests.startEndpointSlicesAPI(
            in: directory, log: directory + "/api.log",
            ["--ready", "127.0.0.1,127.0.0.2,127.0.0.3", "--drop-when", drop, "--drop", "127.0.0.2"])
        defer { _ = api.stop(SIGKILL) }
        try """
        receivers:
          otlp:
            protocols: {http: {endpoint: "127.0.0.1:0"}}
        exporters:
          loadbalancing:
            protocol:
              otlp: {tls: {insecure: true}, compression: none}
            resolver:
              k8s: {service: gw.observability, ports: [\(grpcPort)]}
        service:
          pipelines:
            traces: {receivers: [otlp], exporters: [loadbalancing]}
        """.write(toFile: directory + "/agent.yaml", atomically: true, encoding: .utf8)
        let (agent, agentPort) = try InClusterTrapline.run(
            config: directory + "/agent.yaml", apiPort: apiPort, account: account)
        defer { _ = agent.stop() }
        func agentMetrics() -> [String: Double] { InClusterTrapline.metrics(port: agentPort) }
        func sent() -> Double {
            agentMetrics().filter { $0.key.hasPrefix("trapline_exporter_sent_records_total{") }.values.reduce(0, +)
        }
        let backends = #"trapline_loadbalancer_backends{exporter="loadbalancing"}"#
        #expect(FileChanges.eventually(seconds: 15) { agentMetrics()[backends] == 3 })
        let requests = try Self.requests(capture)
        func sendAll() throws {
            for request in requests {
                let (status, _, _) = try SidecarCommandTests.request(
                    "http://127.0.0.1:\(agentPort)/v1/traces", method: "POST",
                    headers: ["Content-Type": "application/x-protobuf"], body: request)
                #expect(status == 200)
            }
        }

        // Round 1 over three gateways: each trace on one.
        try sendAll()
        #expect(FileChanges.eventually(seconds: 30) { sent() == 2000 }, "\(agentMetrics())")
        var owner: [String: Int] = [:]
        var lines = [Int](repeating: 0, count: 3)
        for (index, gateway) in gateways.enumerated() {
            lines[index] = LoadBalancingCommandTests.lineCount(gateway.output)
            for trace in try LoadBalancingCommandTests.spansByTrace(gateway.output).keys
                + Self.quarantinedTraces(gateway.output + ".quarantine")
            {
                #expect(owner[trace] == nil || owner[trace] == index, "trace \(trace) on two gateways")
                owner[trace] = index
            }
        }
        #expect(Set(owner.values) == [0, 1, 2])

        // Gateway 2 leaves the Service; round 2 over the other two.
        FileManager.default.createFile(atPath: drop, contents: Data())
        #expect(FileChanges.eventually(seconds: 15) { agentMetrics()[backends] == 2 })
        try sendAll()
        #expect(FileChanges.eventually(seconds: 30) { sent() == 4000 }, "\(agentMetrics())")
        for index in [0, 2] {
            for trace in try LoadBalancingCommandTests.spansByTrace(gateways[index].output, from: lines[index]).keys
            where owner[trace] != 1 {
                #expect(owner[trace] == index, "trace \(trace) moved from gateway \(owner[trace] ?? -1) to \(index)")
            }
        }
        #expect(LoadBalancingCommandTests.lineCount(gateways[1].output) == lines[1])

        // A real Prometheus scrapes the four; one expression each across the gateways.
        let webPort = 20_000 + Int((getpid() + 7) % 20_000)
        try """
        global: {scrape_interval: 1s}
        scrape_configs:
          - job_name: agent
            static_configs: [{targets: ['127.0.0.1:\(agentPort)']}]
          - job_name: gateways
            static_configs:
              - targets: [\(gateways.enumerated().map { "'127.0.0.\($0.offset + 1):\($0.element.metricsPort)'" }.joined(separator: ", "))]
        """.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        let prometheus = try BackgroundProcess(
            "/usr/bin/prometheus",
            [
                "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/tsdb",
                "--web.listen-address=127.0.0.1:\(webPort)",
            ])
        defer { _ = prometheus.stop() }
        func query(_ expression: String) -> Double? {
            let encoded = expression.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            guard
                let answer = try? SidecarCommandTests.request(
                    "http://127.0.0.1:\(webPort)/api/v1/query?query=\(encoded)"),
                let object = try? JSONSerialization.jsonObject(with: Data(answer.2)) as? [String: Any],
                let data = object["data"] as? [String: Any], let result = data["result"] as? [[String: Any]],
                let value = result.first?["value"] as? [Any], let text = value.last as? String
            else { return nil }
            return Double(text)
        }
        let expressions = [
            "received": #"sum(trapline_records_received_total{job="gateways"})"#,
            "forwarded": #"sum(trapline_records_forwarded_total{job="gateways",signal="traces"})"#,
            "blocked": #"sum(trapline_records_blocked_total{job="gateways"})"#,
            "ter":
                #"sum(trapline_trap_events_blocked_total{job="gateways"}) / sum(trapline_ter_expected_events{job="gateways"})"#,
            "sent": #"sum(trapline_exporter_sent_records_total{job="agent"})"#,
        ]
        var scraped: [String: Double] = [:]
        let settled = FileChanges.eventually(seconds: 60) {
            scraped = expressions.compactMapValues(query)
            return scraped.count == expressions.count && scraped["received"] == 4000 && scraped["sent"] == 4000
        }
        #expect(settled, "\(scraped) \(prometheus.standardError.suffix(400))")

        // One replay of the union of what the agent was sent: the capture twice.
        try FileManager.default.copyItem(atPath: capture, toPath: directory + "/round-1.otlp")
        try FileManager.default.copyItem(atPath: capture, toPath: directory + "/round-2.otlp")
        try """
        receivers: {stdin: null}
        \(Self.rules)
        exporters:
          file: {path: \(directory)/union.jsonl, format: json}
          file/quarantine: {path: \(directory)/union.quarantine, format: json}
        service:
          pipelines:
            traces: {receivers: [stdin], processors: [traps], exporters: [file]}
        """.write(toFile: directory + "/union.yaml", atomically: true, encoding: .utf8)
        let replay = try ProcessRunner.trapline([
            "replay", "-q", "--config", directory + "/union.yaml", "--metrics-file", directory + "/union.prom",
            directory + "/round-1.otlp", directory + "/round-2.otlp",
        ])
        #expect(replay.status == 0, "\(replay.standardError)")
        let union = PipelineCommandTests.samples(try String(contentsOfFile: directory + "/union.prom", encoding: .utf8))
        func total(_ prefix: String) -> Double { union.filter { $0.key.hasPrefix(prefix) }.values.reduce(0, +) }
        #expect(scraped["received"] == union["trapline_records_received_total"])
        #expect(scraped["forwarded"] == union[#"trapline_records_forwarded_total{signal="traces"}"#])
        #expect(scraped["blocked"] == total("trapline_records_blocked_total"))
        let unionTER = total("trapline_trap_events_blocked_total") / total("trapline_ter_expected_events")
        #expect(unionTER > 0 && unionTER < 1)
        #expect(abs((scraped["ter"] ?? 0) - unionTER) < 1e-9, "gateways \(scraped["ter"] ?? -1), replay \(unionTER)")
    }

    /// Trace ids of the spans a gateway quarantined (blocked traps).
    static func quarantinedTraces(_ path: String) throws -> [String] {
        Array(try LoadBalancingCommandTests.spansByTrace(path).keys)
    }
}
