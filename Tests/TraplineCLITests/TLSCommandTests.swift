import Foundation
import Testing
import TraplineTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// TLS on the receivers (HTTP and gRPC) and the `otlp` exporter, with certificates made for the
/// test (`Tests/Scripts/make_certs.py`), real clients (curl, grpcio, openssl s_client) and a
/// grpcio next hop over TLS.
@Suite(.serialized, .tags(.slow)) struct TLSCommandTests {
    struct Running {
        var trapline: BackgroundProcess
        var httpPort: Int
        var grpcPort: Int
        var certificates: String
    }

    /// Makes the certificates, then starts `trapline run` with both protocols over TLS
    /// (`client_ca_file` when `mutual`, `reload_interval` 200ms) and a file exporter.
    static func start(mutual: Bool) throws -> Running {
        let directory = try Fixtures.temporaryDirectory().path
        _ = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", Fixtures.root.appendingPathComponent("Tests/Scripts/make_certs.py").path, directory])
        let clientCA = mutual ? ", client_ca_file: \(directory)/ca.pem" : ""
        let tls =
            "{cert_file: \(directory)/server.pem, key_file: \(directory)/server.key\(clientCA), reload_interval: 200ms}"
        let config = """
            receivers:
              otlp:
                protocols:
                  grpc: {endpoint: 127.0.0.1:0, tls: \(tls)}
                  http: {endpoint: 127.0.0.1:0, tls: \(tls)}
            exporters:
              file: {path: \(directory)/out.jsonl}
            service:
              pipelines:
                traces: {receivers: [otlp], exporters: [file]}
            """
        try config.write(toFile: directory + "/tls.yaml", atomically: true, encoding: .utf8)
        let (trapline, port) = try ListeningTrapline.start(config: directory + "/tls.yaml")
        return Running(
            trapline: trapline, httpPort: port("otlp"), grpcPort: port("otlp grpc"), certificates: directory)
    }

    /// The status of `GET /healthz` over HTTPS with curl, with a client certificate `client`
    /// (`client`, `wrong-client`, `expired-client`) or none; 0 when the handshake fails.
    static func httpsStatus(_ running: Running, client: String?) throws -> Int {
        let directory = running.certificates
        var arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", directory + "/ca.pem"]
        if let client { arguments += ["--cert", "\(directory)/\(client).pem", "--key", "\(directory)/\(client).key"] }
        let result = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/curl"), arguments + ["https://127.0.0.1:\(running.httpPort)/healthz"])
        return Int(String(decoding: result.standardOutput, as: UTF8.self)) ?? 0
    }

    /// The status code name of one gRPC export over TLS (grpcio), with a client certificate or none.
    static func grpcStatus(_ running: Running, client: String?) throws -> String {
        let directory = running.certificates
        var arguments = [
            "python3", Fixtures.root.appendingPathComponent("Tests/Scripts/otlp_grpc_client.py").path, "tls",
            String(running.grpcPort), directory + "/ca.pem",
        ]
        if let client { arguments += ["\(directory)/\(client).pem", "\(directory)/\(client).key"] }
        let result = try ProcessRunner.run(URL(fileURLWithPath: "/usr/bin/env"), arguments)
        return String(decoding: result.standardOutput, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The subject of the certificate a TLS handshake on `port` presents (openssl s_client).
    static func presentedSubject(_ running: Running, port: Int) throws -> String {
        let directory = running.certificates
        let script = """
            echo | openssl s_client -connect 127.0.0.1:\(port) -alpn h2 -cert \(directory)/client.pem \
              -key \(directory)/client.key 2>/dev/null | openssl x509 -noout -subject
            """
        let result = try ProcessRunner.run(URL(fileURLWithPath: "/bin/sh"), ["-c", script])
        return String(decoding: result.standardOutput, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Acceptance (issue 25): with `client_ca_file`, a client without a certificate, with one
    /// from another CA, or with an expired one is refused in the handshake, on HTTP and gRPC; a
    /// client with a good certificate is served.
    @Test func mutualTLSRefusesClientsWithoutAGoodCertificate() throws {
        let running = try Self.start(mutual: true)
        defer { _ = running.trapline.stop() }
        #expect(try Self.httpsStatus(running, client: "client") == 200)
        #expect(try Self.grpcStatus(running, client: "client") == "OK")
        for refused in [nil, "wrong-client", "expired-client"] {
            #expect(try Self.httpsStatus(running, client: refused) == 0, "\(refused ?? "no certificate")")
            #expect(try Self.grpcStatus(running, client: refused) == "UNAVAILABLE", "\(refused ?? "no certificate")")
        }
    }

    /// Acceptance (issue 25): a server certificate rotated on disk is presented by both
    /// listeners to the next handshake, without a restart (`reload_interval`).
    @Test func aRotatedServerCertificateIsServedWithoutARestart() throws {
        let running = try Self.start(mutual: false)
        defer { _ = running.trapline.stop() }
        #expect(try Self.presentedSubject(running, port: running.httpPort) == "subject=CN = trapline-server-1")
        #expect(try Self.grpcStatus(running, client: nil) == "OK")
        let directory = running.certificates
        // The key first, then the certificate: a reload between the two keeps the old pair
        // (the reloader refuses a certificate that does not match its key).
        for name in ["server.key", "server.pem"] {
            let next = try Data(
                contentsOf: URL(
                    fileURLWithPath: "\(directory)/\(name.replacingOccurrences(of: "server", with: "server2"))"))
            try next.write(to: URL(fileURLWithPath: "\(directory)/\(name).tmp"))
            _ = rename("\(directory)/\(name).tmp", "\(directory)/\(name)")
        }
        let deadline = Date().addingTimeInterval(10)
        var subjects: [String] = []
        while Date() < deadline {
            subjects = [
                try Self.presentedSubject(running, port: running.httpPort),
                try Self.presentedSubject(running, port: running.grpcPort),
            ]
            if subjects.allSatisfy({ $0 == "subject=CN = trapline-server-2" }) { break }
            usleep(100_000)
        }
        #expect(subjects == ["subject=CN = trapline-server-2", "subject=CN = trapline-server-2"])
        #expect(try Self.grpcStatus(running, client: nil) == "OK")
        #expect(running.trapline.process.isRunning)
    }

    /// The `otlp` and `otlphttp` exporters over mTLS to a next hop (grpcio, Python's
    /// http.server) that requires client certificates: with `ca_file`, `cert_file` and
    /// `key_file` every span arrives; trusting the wrong CA, the sends fail and are counted
    /// failed, never forwarded.
    @Test(arguments: [("otlp", true), ("otlp", false), ("otlphttp", true), ("otlphttp", false)])
    func exportersSpeakMutualTLS(exporter: String, trustsTheRightCA: Bool) throws {
        let directory = try Fixtures.temporaryDirectory().path
        _ = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", Fixtures.root.appendingPathComponent("Tests/Scripts/make_certs.py").path, directory])
        let hop = try NextHop(
            directory: directory,
            arguments: (exporter == "otlp" ? ["--grpc"] : []) + [
                "--tls", directory + "/server.pem", directory + "/server.key", directory + "/ca.pem",
            ])
        defer { hop.stop() }
        let input = Fixtures.root.appendingPathComponent("Fixtures/generated/shop-traces.otlp").path
        let ca = trustsTheRightCA ? "ca.pem" : "wrong-ca.pem"
        let config = """
            receivers:
              file: {include: [\(input)]}
            exporters:
              \(exporter):
                endpoint: \(exporter == "otlp" ? "" : "https://")127.0.0.1:\(hop.port)
                tls: {ca_file: \(directory)/\(ca), cert_file: \(directory)/client.pem, key_file: \(directory)/client.key}
                retry_on_failure: {initial_interval: 100ms, max_elapsed_time: 2s}
            service:
              pipelines:
                traces: {receivers: [file], exporters: [\(exporter)]}
            """
        try config.write(toFile: directory + "/replay.yaml", atomically: true, encoding: .utf8)
        let result = try ProcessRunner.run(
            ProcessRunner.traplineBinary, ["replay", "--config", directory + "/replay.yaml", input])
        if trustsTheRightCA {
            #expect(result.status == 0, "\(result.standardError)")
            #expect(hop.received.spans == 2000, "\(hop.counted)")
        } else {
            #expect(result.status == 74, "\(result.standardError)")
            #expect(hop.received.spans == 0)
            #expect(result.standardError.contains("0 forwarded"), "\(result.standardError)")
        }
    }
}
