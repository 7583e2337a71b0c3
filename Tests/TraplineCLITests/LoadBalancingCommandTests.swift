import Foundation
import Testing
import TraplineTestSupport

/// The `loadbalancing` exporter through the binary: an agent replays a capture over three
/// gateways (each a `trapline run` with an OTLP/gRPC receiver writing what it gets to a file),
/// every span of a trace reaches one gateway, and taking a gateway off the list moves only the
/// traces it had.
@Suite(.serialized, .tags(.slow)) struct LoadBalancingCommandTests {
    /// A gateway: its process, its gRPC port and the file it writes.
    struct Gateway {
        var process: BackgroundProcess
        var port: Int
        var output: String
        var address: String { "127.0.0.1:\(port)" }
    }

    static func startGateways(_ count: Int, in directory: String) throws -> [Gateway] {
        try (0..<count).map { index in
            let output = directory + "/gateway-\(index).jsonl"
            let config = directory + "/gateway-\(index).yaml"
            try """
            receivers:
              otlp:
                protocols:
                  grpc: {endpoint: "127.0.0.1:0"}
                  http: {endpoint: "127.0.0.1:0"}
            exporters:
              file: {path: \(output), format: json}
            service:
              pipelines:
                traces: {receivers: [otlp], exporters: [file]}
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let (process, port) = try ListeningTrapline.start(config: config)
            return Gateway(process: process, port: port("otlp grpc"), output: output)
        }
    }

    /// Writes an agent pipeline replaying a file through `loadbalancing` over `hostnames`.
    static func agentConfig(_ hostnames: [String], in directory: String, name: String) throws -> String {
        let path = directory + "/\(name).yaml"
        try """
        receivers:
          file: {include: ["\(Self.capture)"]}
        exporters:
          loadbalancing:
            routing_key: traceID
            protocol:
              otlp:
                tls: {insecure: true}
                compression: none
                retry_on_failure: {initial_interval: 100ms, max_interval: 200ms, max_elapsed_time: 2s}
            resolver:
              static:
                hostnames: [\(hostnames.joined(separator: ", "))]
        service:
          pipelines:
            traces: {receivers: [file], exporters: [loadbalancing]}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let capture = Fixtures.root.appendingPathComponent("Fixtures/generated/shop-traces.otlp").path

    /// The spans of each trace id in a gateway's file, from line `from` on.
    static func spansByTrace(_ path: String, from line: Int = 0) throws -> [String: Int] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        var spans: [String: Int] = [:]
        for line in text.split(separator: "\n").dropFirst(line) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            for resource in (object["resourceSpans"] as? [[String: Any]]) ?? [] {
                for scope in (resource["scopeSpans"] as? [[String: Any]]) ?? [] {
                    for span in (scope["spans"] as? [[String: Any]]) ?? [] {
                        spans[span["traceId"] as? String ?? "", default: 0] += 1
                    }
                }
            }
        }
        return spans
    }

    static func lineCount(_ path: String) -> Int {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    static func replay(_ config: String, metrics: String, quiet: Bool = true) throws -> ProcessRunner.Result {
        try ProcessRunner.run(
            ProcessRunner.traplineBinary,
            ["replay"] + (quiet ? ["-q"] : []) + ["--config", config, "--metrics-file", metrics, Self.capture])
    }

    @Test func eachTraceReachesOneGatewayAndRemovingOneMovesOnlyItsTraces() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let gateways = try Self.startGateways(3, in: directory)
        defer { for gateway in gateways { _ = gateway.process.stop() } }

        // All three gateways.
        let all = try Self.agentConfig(gateways.map(\.address), in: directory, name: "agent-3")
        let first = try Self.replay(all, metrics: directory + "/agent-3.prom")
        #expect(first.status == 0, "\(first.standardError)")
        var owner: [String: Int] = [:]
        var spans = [Int](repeating: 0, count: 3)
        for (index, gateway) in gateways.enumerated() {
            #expect(FileChanges.eventually(seconds: 10) { Self.lineCount(gateway.output) > 0 })
            for (trace, count) in try Self.spansByTrace(gateway.output) {
                #expect(owner[trace] == nil, "trace \(trace) reached gateways \(owner[trace]!) and \(index)")
                owner[trace] = index
                spans[index] += count
            }
        }
        #expect(spans.reduce(0, +) == 2000, "\(spans)")
        #expect(spans.allSatisfy { $0 > 0 }, "\(spans)")
        // The agent's accounting per backend adds up to the spans sent.
        let metrics = try String(contentsOfFile: directory + "/agent-3.prom", encoding: .utf8)
        let sent = metrics.split(separator: "\n").filter {
            $0.hasPrefix("trapline_exporter_sent_records_total{exporter=\"loadbalancing\",endpoint=")
        }
        #expect(sent.count == 3, "\(metrics)")
        #expect(sent.compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +) == 2000)
        #expect(metrics.contains("trapline_loadbalancer_backends{exporter=\"loadbalancing\"} 3"))

        // The middle gateway taken off the list: its traces move, no other trace does.
        let before = gateways.map { Self.lineCount($0.output) }
        let two = try Self.agentConfig([gateways[0].address, gateways[2].address], in: directory, name: "agent-2")
        let second = try Self.replay(two, metrics: directory + "/agent-2.prom")
        #expect(second.status == 0, "\(second.standardError)")
        var moved = 0
        var total = 0
        for index in [0, 2] {
            #expect(FileChanges.eventually(seconds: 10) { Self.lineCount(gateways[index].output) > before[index] })
            for (trace, count) in try Self.spansByTrace(gateways[index].output, from: before[index]) {
                total += count
                if owner[trace] == 1 {
                    moved += 1
                } else {
                    #expect(
                        owner[trace] == index, "trace \(trace) moved from gateway \(owner[trace] ?? -1) to \(index)")
                }
            }
        }
        #expect(total == 2000)
        #expect(moved == owner.values.filter { $0 == 1 }.count)
        #expect(Self.lineCount(gateways[1].output) == before[1])
    }

    /// A backend that does not answer: its share is retried, then counted as failed (the exit
    /// status says so); the other backends get theirs.
    @Test func aBackendThatIsDownFailsOnlyItsShare() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let gateways = try Self.startGateways(2, in: directory)
        defer { for gateway in gateways { _ = gateway.process.stop() } }
        // Port 1 on loopback: nothing listens.
        let config = try Self.agentConfig(gateways.map(\.address) + ["127.0.0.1:1"], in: directory, name: "agent")
        let result = try Self.replay(config, metrics: directory + "/agent.prom", quiet: false)
        #expect(result.status == 74, "\(result.standardError)")
        let metrics = try String(contentsOfFile: directory + "/agent.prom", encoding: .utf8)
        func value(_ name: String, _ endpoint: String) -> Double {
            let prefix = "\(name){exporter=\"loadbalancing\",endpoint=\"\(endpoint)\"} "
            return metrics.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap {
                Double($0.dropFirst(prefix.count))
            } ?? -1
        }
        let failed = value("trapline_exporter_failed_records_total", "127.0.0.1:1")
        let delivered = gateways.map { value("trapline_exporter_sent_records_total", $0.address) }
        #expect(failed > 0, "\(metrics)")
        #expect(delivered.allSatisfy { $0 > 0 }, "\(metrics)")
        #expect(failed + delivered.reduce(0, +) == 2000, "\(metrics)")
        var received = 0
        for gateway in gateways {
            #expect(FileChanges.eventually(seconds: 10) { Self.lineCount(gateway.output) > 0 })
            received += try Self.spansByTrace(gateway.output).values.reduce(0, +)
        }
        #expect(Double(received) == delivered.reduce(0, +))
        #expect(result.standardError.contains("[export_failed, \(Int(failed)) records]"), "\(result.standardError)")
    }

    /// `k8s`: the ready addresses of a Service's EndpointSlices from the Kubernetes API (a
    /// loopback server with a token and CA), once per port; a watch event that makes another
    /// address ready adds it to the ring.
    @Test func kubernetesResolverFollowsTheServicesEndpointSlices() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let gateways = try Self.startGateways(1, in: directory)
        defer { for gateway in gateways { _ = gateway.process.stop() } }
        let log = directory + "/api.log"
        let (api, apiPort, account) = try Self.startEndpointSlicesAPI(in: directory, log: log, ["--delay", "2"])
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
              k8s: {service: gw.observability, ports: [\(gateways[0].port)]}
        service:
          pipelines:
            traces: {receivers: [otlp], exporters: [loadbalancing]}
        """.write(toFile: directory + "/agent.yaml", atomically: true, encoding: .utf8)
        let (agent, port) = try InClusterTrapline.run(
            config: directory + "/agent.yaml", apiPort: apiPort, account: account)
        defer { _ = agent.stop() }
        func metrics() -> [String: Double] { InClusterTrapline.metrics(port: port) }
        let label = #"{exporter="loadbalancing"}"#
        // The list: one ready address on the one port.
        #expect(FileChanges.eventually(seconds: 10) { metrics()["trapline_loadbalancer_backends\(label)"] == 1 })
        let span =
            #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","#
            + #""spanId":"0102030405060708","name":"op"}]}]}]}"#
        let (status, _, _) = try SidecarCommandTests.request(
            "http://127.0.0.1:\(port)/v1/traces", method: "POST", headers: ["Content-Type": "application/json"],
            body: Array(span.utf8))
        #expect(status == 200)
        #expect(FileChanges.eventually(seconds: 10) { Self.lineCount(gateways[0].output) == 1 })
        // The watch: a second address became ready.
        #expect(
            FileChanges.eventually(seconds: 15) {
                let now = metrics()
                return now["trapline_loadbalancer_backends\(label)"] == 2
                    && now["trapline_loadbalancer_backend_updates_total\(label)"] == 2
            }, "\(metrics().filter { $0.key.hasPrefix("trapline_loadbalancer") })")
        let requests = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        let path = "/apis/discovery.k8s.io/v1/namespaces/observability/endpointslices"
        #expect(requests.first == "\(path)?labelSelector=kubernetes.io%2Fservice-name%3Dgw", "\(requests)")
        #expect(requests.dropFirst().first?.hasSuffix("&resourceVersion=10") == true, "\(requests)")
    }

    /// A loopback Kubernetes API serving the EndpointSlices of Service `gw` in `observability`
    /// (Tests/Scripts/kube_endpointslices_api.py) and the service account folder to reach it.
    static func startEndpointSlicesAPI(in directory: String, log: String, _ extra: [String]) throws -> (
        BackgroundProcess, port: Int, account: String
    ) {
        let account = try InClusterTrapline.serviceAccount(in: directory, token: "lb-token")
        let (api, port) = try InClusterTrapline.startAPI(
            "kube_endpointslices_api.py", in: directory, account: account, token: "lb-token",
            ["--namespace", "observability", "--service", "gw", "--log", log] + extra)
        return (api, port, account)
    }
}
