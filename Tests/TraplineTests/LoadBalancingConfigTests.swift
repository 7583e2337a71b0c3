import Testing
import TraplineCore

@_spi(Plumbing) @testable import Trapline

/// The `loadbalancing` exporter's settings as the Collector's files write them, and what is
/// refused with a reason.
@Suite struct LoadBalancingConfigTests {
    static func load(_ exporter: String, pipeline: String = "traces") -> ConfigLoader.Result {
        ConfigLoader.load(
            yaml: """
                receivers: {stdin: null}
                exporters:
                  loadbalancing:
                \(exporter.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
                service:
                  pipelines:
                    \(pipeline): {receivers: [stdin], exporters: [loadbalancing]}
                """, file: "lb.yaml")
    }

    static func settings(_ loaded: ConfigLoader.Result) -> (LoadBalancingSettings?, OTLPExporterConfig?) {
        guard case .otlp(let config)? = loaded.config.exporter(ComponentID(parsing: "loadbalancing")!) else {
            return (nil, nil)
        }
        return (config.balancing, config)
    }

    @Test func staticResolverWithTheOTLPTemplate() throws {
        let loaded = Self.load(
            """
            routing_key: service
            protocol:
              otlp:
                timeout: 2s
                tls: {insecure: true}
                sending_queue: {queue_size: 50}
            resolver:
              static:
                hostnames: [gateway-1:4317, gateway-2]
            """)
        #expect(loaded.diagnostics.isEmpty, "\(loaded.diagnostics.sorted)")
        let (balancing, config) = Self.settings(loaded)
        #expect(balancing?.routingKey == .service)
        // A hostname without a port gets 4317, as the Collector's.
        #expect(balancing?.resolver == .fixed(["gateway-1:4317", "gateway-2:4317"]))
        #expect(config?.timeoutSeconds == 2 && config?.tls.insecure == true && config?.queueSize == 50)
    }

    @Test func dnsAndKubernetesResolversTakeTheCollectorsDefaults() throws {
        let dns = Self.settings(Self.load("protocol: {otlp: {}}\nresolver: {dns: {hostname: gateways.svc}}")).0
        #expect(dns?.routingKey == .traceID)
        #expect(dns?.resolver == .dns(hostname: "gateways.svc", port: 4317, intervalSeconds: 5, timeoutSeconds: 1))
        let k8s = Self.settings(
            Self.load(
                "protocol: {otlp: {}}\nresolver: {dns: {hostname: x}, k8s: {service: gw.observability, ports: [15317, 16317]}}"
            )
        ).0
        // k8s wins when several are given, as in the Collector.
        #expect(
            k8s?.resolver
                == .kubernetes(service: "gw", namespace: "observability", ports: [15317, 16317], timeoutSeconds: 1))
    }

    @Test(arguments: [
        ("protocol: {otlp: {endpoint: x:4317}}\nresolver: {static: {hostnames: [a:1]}}", "comes from the resolver"),
        ("protocol: {otlp: {}}\nresolver: {}", "needs one of static, dns or k8s"),
        ("resolver: {static: {hostnames: [a:1]}}", "'protocol.otlp' is required"),
        ("protocol: {otlp: {}}\nresolver: {static: {hostnames: []}}", "at least one backend"),
        ("protocol: {otlp: {}}\nresolver: {dns: {port: 1}}", "'dns.hostname' is required"),
        (
            "protocol: {otlp: {}}\nrouting_key: traceid\nresolver: {static: {hostnames: [a:1]}}",
            "did you mean 'traceID'"
        ),
        ("protocol: {otlp: {}}\nresolver: {consul: {}}", "unknown key 'consul'"),
    ])
    func refusedSettingsSayWhy(exporter: String, message: String) {
        let loaded = Self.load(exporter)
        let text = loaded.diagnostics.sorted.map { "\($0.message) \($0.hint ?? "")" }.joined(separator: "\n")
        #expect(text.contains(message), "\(text)")
    }

    /// Metrics carry no trace id: a metrics pipeline refuses `traceID` and takes the others.
    @Test func theRoutingKeyMustFitThePipelinesSignal() {
        let refused = Self.load(
            "protocol: {otlp: {}}\nresolver: {static: {hostnames: [a:1]}}", pipeline: "metrics")
        #expect(
            refused.diagnostics.sorted.contains { $0.message.contains("routes by traceID, which metrics do not have") })
        for key in ["service", "resource", "metric", "streamID"] {
            let loaded = Self.load(
                "routing_key: \(key)\nprotocol: {otlp: {}}\nresolver: {static: {hostnames: [a:1]}}", pipeline: "metrics"
            )
            #expect(loaded.diagnostics.isEmpty, "\(key): \(loaded.diagnostics.sorted)")
        }
        let streams = Self.load("routing_key: streamID\nprotocol: {otlp: {}}\nresolver: {static: {hostnames: [a:1]}}")
        #expect(streams.diagnostics.sorted.contains { $0.message.contains("which traces do not have") })
    }

    /// Two exporters' series declare each family once (a second TYPE line is what promtool and a
    /// scrape refuse).
    @Test func mergedExpositionsDeclareEachFamilyOnce() {
        let one = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 1\n# HELP b B.\n# TYPE b gauge\nb 2\n"
        let two = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"2\"} 3\n"
        #expect(
            PrometheusExpositionMerge.merge([one, two])
                == "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 1\na_total{x=\"2\"} 3\n# HELP b B.\n# TYPE b gauge\nb 2\n"
        )
    }
}
