import Foundation
import Testing
import TraplineTestSupport

/// What the tests that play a Kubernetes cluster on loopback share: a service account folder (a
/// token, and the CA of a self-signed certificate for 127.0.0.1 that the loopback API server
/// presents), and `trapline run` started with the in-cluster variables pointing at that server.
enum InClusterTrapline {
    /// Makes `directory/serviceaccount` (token, ca.crt) and `directory/key.pem`; returns the folder.
    static func serviceAccount(in directory: String, token: String) throws -> String {
        let account = directory + "/serviceaccount"
        try FileManager.default.createDirectory(atPath: account, withIntermediateDirectories: true)
        let certificate = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/openssl"),
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                "subjectAltName=IP:127.0.0.1", "-keyout", directory + "/key.pem", "-out", account + "/ca.crt",
            ])
        #expect(certificate.status == 0, "\(certificate.standardError)")
        try "\(token)\n".write(toFile: account + "/token", atomically: true, encoding: .utf8)
        return account
    }

    /// Starts a loopback API script from Tests/Scripts with the account's certificate and token,
    /// waits for the port it prints.
    static func startAPI(_ script: String, in directory: String, account: String, token: String, _ arguments: [String])
        throws -> (BackgroundProcess, port: Int)
    {
        let api = try BackgroundProcess(
            "/usr/bin/env",
            [
                "python3", Fixtures.root.appendingPathComponent("Tests/Scripts/\(script)").path, "--cert",
                account + "/ca.crt", "--key", directory + "/key.pem", "--token", token,
            ] + arguments)
        #expect(api.wait { output, _ in output.contains("\n") }, "\(api.standardError)")
        return (api, Int(api.standardOutput.split(separator: "\n").first ?? "") ?? 0)
    }

    /// `trapline run --config CONFIG` in the loopback cluster; waits for its listening line and
    /// returns it with its OTLP/HTTP port.
    static func run(config: String, apiPort: Int, account: String) throws -> (BackgroundProcess, port: Int) {
        let trapline = try BackgroundProcess(
            "/usr/bin/env",
            [
                "KUBERNETES_SERVICE_HOST=127.0.0.1", "KUBERNETES_SERVICE_PORT=\(apiPort)",
                "TRAPLINE_SERVICEACCOUNT_DIR=\(account)", ProcessRunner.traplineBinary.path, "run", "--config", config,
            ])
        #expect(trapline.wait { _, errors in errors.contains("listening:") }, "\(trapline.standardError)")
        return (trapline, DeploymentCommandTests.port("otlp", in: trapline.standardError))
    }

    /// The samples `/metrics` serves on `port` now (none when it does not answer).
    static func metrics(port: Int) -> [String: Double] {
        guard let answer = try? SidecarCommandTests.request("http://127.0.0.1:\(port)/metrics") else { return [:] }
        return PipelineCommandTests.samples(String(decoding: answer.2, as: UTF8.self))
    }
}
