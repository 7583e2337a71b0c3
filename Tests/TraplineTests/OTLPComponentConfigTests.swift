import Testing

@_spi(Plumbing) @testable import Trapline

/// The `otlp` receiver's `protocols.grpc` and the `otlp` (gRPC) exporter, as the Collector's
/// files write them.
@Suite struct OTLPComponentConfigTests {
    static func load(_ yaml: String) -> ConfigLoader.Result { ConfigLoader.load(yaml: yaml, file: "otlp.yaml") }

    @Test func grpcProtocolTakesTheCollectorsDefaultsAndSettings() throws {
        let loaded = Self.load(
            """
            receivers:
              otlp:
                protocols:
                  grpc:
              otlp/tuned:
                protocols:
                  grpc:
                    endpoint: 0.0.0.0:14317
                    max_recv_msg_size_mib: 16
                    max_concurrent_streams: 64
                    keepalive: {server_parameters: {max_connection_idle: 11s, time: 30s}}
                  http:
            exporters: {stdout: null}
            service:
              pipelines:
                traces: {receivers: [otlp, otlp/tuned], exporters: [stdout]}
            """)
        #expect(loaded.diagnostics.isEmpty, "\(loaded.diagnostics.sorted)")
        let receivers = loaded.config.otlpReceivers
        let plain = try #require(receivers.first { $0.id == "otlp" }).config
        #expect(plain.grpc == OTLPGRPCSettings())
        #expect(plain.grpc?.endpoint == "127.0.0.1:4317" && plain.grpc?.maxReceiveMessageBytes == 4 << 20)
        #expect(!plain.servesHTTP)
        let tuned = try #require(receivers.first { $0.id == "otlp/tuned" }).config
        #expect(tuned.servesHTTP && tuned.endpoint == "127.0.0.1:4318")
        #expect(tuned.grpc?.endpoint == "0.0.0.0:14317" && tuned.grpc?.maxReceiveMessageBytes == 16 << 20)
        #expect(tuned.grpc?.maxConcurrentStreams == 64)
        #expect(tuned.grpc?.keepalive == ["max_connection_idle": 11, "time": 30])
    }

    @Test(arguments: [
        (
            "grpc: {endpoint: 127.0.0.1:4318}\n      http: {endpoint: 127.0.0.1:4318}",
            "protocols.http and protocols.grpc both listen on 127.0.0.1:4318"
        ),
        ("grpc: {endpoint: nowhere}", "'nowhere' is not host:port"),
        ("grpc: {max_recv_msg_size_mib: 0}", "expected a positive number"),
        (
            "grpc: {tls: {cert_file: /nonexistent/a.pem, key_file: /nonexistent/a.key}}",
            "cannot read cert_file '/nonexistent/a.pem'"
        ),
        ("grpc: {tls: {min_version: '1.1'}}", "min_version must be 1.2 or 1.3"),
        ("grpc: {auth: {authenticator: nothing}}", "authenticator 'nothing' is not a defined extension"),
    ])
    func grpcProtocolMistakesAreNamed(protocols: String, expected: String) {
        let loaded = Self.load(
            """
            receivers:
              otlp:
                protocols:
                  \(protocols)
            exporters: {stdout: null}
            service: {pipelines: {traces: {receivers: [otlp], exporters: [stdout]}}}
            """)
        #expect(loaded.diagnostics.all.map(\.message).contains(expected), "\(loaded.diagnostics.sorted)")
    }

    @Test func otlpExporterSpeaksGRPCWithTheSharedQueueSettings() throws {
        let loaded = Self.load(
            """
            receivers: {otlp: {protocols: {grpc: null}}}
            exporters:
              otlp:
                endpoint: collector.example:4317
                tls: {insecure: true}
                compression: none
                headers: {x-tenant: blue}
                sending_queue: {queue_size: 7, num_consumers: 2}
              otlp/plain:
                endpoint: http://127.0.0.1:14317
            service:
              pipelines:
                traces: {receivers: [otlp], exporters: [otlp, otlp/plain]}
            """)
        #expect(loaded.diagnostics.isEmpty, "\(loaded.diagnostics.sorted)")
        let forwarders = loaded.config.outputs().forwarders
        let first = try #require(forwarders.first { $0.id == "otlp" }).config
        #expect(first.transport == .grpc(endpoint: try #require(HostPort("collector.example:4317"))))
        #expect(first.compression == .none && first.headers == ["x-tenant": "blue"])
        #expect(first.queueSize == 7 && first.consumers == 2)
        let plain = try #require(forwarders.first { $0.id == "otlp/plain" }).config
        #expect(plain.transport == .grpc(endpoint: try #require(HostPort("127.0.0.1:14317"))))
    }

    /// The Collector's `otlp` exporter uses TLS unless told otherwise: so does this one, with the
    /// system's roots or `ca_file`.
    @Test func otlpExporterUsesTLSUnlessInsecure() throws {
        let loaded = Self.load(
            """
            receivers: {otlp: {protocols: {grpc: null}}}
            exporters:
              otlp: {endpoint: "collector.example:4317"}
              otlp/skip: {endpoint: "collector.example:4317", tls: {insecure_skip_verify: true, server_name_override: c.example}}
              otlp/bad: {endpoint: "collector.example:4317", tls: {cert_file: /nonexistent.pem}}
              otlp/half: {endpoint: "collector.example:4317", tls: {key_file: /etc/os-release}}
            service: {pipelines: {traces: {receivers: [otlp], exporters: [otlp, otlp/skip, otlp/bad, otlp/half]}}}
            """)
        let messages = loaded.diagnostics.all.map(\.message)
        #expect(messages.contains("cannot read cert_file '/nonexistent.pem'"), "\(messages)")
        #expect(messages.contains("cert_file and key_file go together"), "\(messages)")
        let forwarders = loaded.config.outputs().forwarders
        let plain = try #require(forwarders.first { $0.id == "otlp" }).config
        #expect(!plain.tls.insecure && !plain.tls.insecureSkipVerify && plain.tls.caFile == nil)
        let skip = try #require(forwarders.first { $0.id == "otlp/skip" }).config
        #expect(skip.tls.insecureSkipVerify && skip.tls.serverNameOverride == "c.example")
    }
}
