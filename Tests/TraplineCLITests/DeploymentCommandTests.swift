import Foundation
import Testing
import TraplineTestSupport

/// The tarball `Scripts/test.sh` made, if it did.
enum PackagedTrapline {
    static var tarball: String? { ProcessInfo.processInfo.environment["TRAPLINE_PACKAGE"] }
}

/// The release artifact and the container image (issue 28) as a user gets them: the tarball of
/// `Scripts/package.sh` (made by `Scripts/test.sh` before the suite, path in `TRAPLINE_PACKAGE`,
/// since packaging relinks the binary the other tests run), unpacked into a bare Debian made by
/// debootstrap (no Swift there) and built into an OCI image run by runc.
@Suite(
    .serialized, .tags(.slow),
    .enabled(
        if: PackagedTrapline.tarball != nil,
        "TRAPLINE_PACKAGE is not set: Scripts/test.sh packages the binary (Scripts/package.sh) before the suite"))
struct DeploymentCommandTests {
    static var package: String? { PackagedTrapline.tarball }

    static func sh(_ script: String) throws -> ProcessRunner.Result { try ProcessRunner.bash(script) }

    /// Unpacks the tarball into `directory`; the unpacked folder.
    static func unpack(into directory: String) throws -> String {
        let result = try sh("tar -C '\(directory)' -xzf '\(package!)' && ls -d '\(directory)'/trapline-*")
        #expect(result.status == 0, "\(result.standardError)")
        return String(decoding: result.standardOutput, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static var head: String {
        let result = try? sh("cd '\(Fixtures.root.path)' && git rev-parse HEAD")
        return result.map { String(decoding: $0.standardOutput, as: UTF8.self) }?.trimmingCharacters(
            in: .whitespacesAndNewlines) ?? ""
    }

    @Test func theTarballHoldsTheStaticBinaryPipelinesLicensesAndUsage() throws {
        let directory = try Fixtures.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let unpacked = try Self.unpack(into: directory)
        for path in [
            "bin/trapline", "USAGE.txt", "Pipelines/default.yaml", "LICENSES/swift-runtime.txt",
            "LICENSES/swift-nio.txt",
        ] {
            #expect(FileManager.default.fileExists(atPath: unpacked + "/" + path), "\(path)")
        }
        let version = try ProcessRunner.run(URL(fileURLWithPath: unpacked + "/bin/trapline"), ["--version"])
        let line = String(decoding: version.standardOutput, as: UTF8.self)
        #expect(line.hasPrefix("trapline 0.1.0 (commit \(Self.head)"), "\(line)")
        // The Swift runtime is inside: nothing of the toolchain is loaded.
        let libraries = try Self.sh("ldd '\(unpacked)/bin/trapline'")
        let names = String(decoding: libraries.standardOutput, as: UTF8.self)
        #expect(!names.contains("swift") && !names.contains("Foundation"), "\(names)")
    }

    /// A Debian with nothing but its minimal base: the binary replays a capture, gates a build
    /// log and serves a sidecar request.
    @Test func theBinaryRunsInABareDebianChroot() throws {
        guard getuid() == 0 else {
            Issue.record("creating a chroot needs root; run the suite as root (CI does)")
            return
        }
        let directory = try Fixtures.temporaryDirectory().path
        // The Debian copy and the package are a few hundred megabytes: gone after the test, /proc
        // unmounted first (never delete through a mounted /proc).
        defer {
            let root = directory + "/debian"
            if (try? Self.sh("umount '\(root)/proc' 2>/dev/null; ! mountpoint -q '\(root)/proc'"))?.status == 0 {
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
        let root = directory + "/debian"
        // debootstrap once per machine (about 25 s), then a copy of it per run.
        let made = try Self.sh(
            """
            set -e
            command -v debootstrap >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
            cache=/var/cache/trapline-tests/bookworm-minbase
            if [ ! -x "$cache/bin/sh" ]; then
                rm -rf "$cache.partial"; mkdir -p "$(dirname "$cache")"
                debootstrap --variant=minbase bookworm "$cache.partial" http://deb.debian.org/debian >/dev/null
                mv "$cache.partial" "$cache"
            fi
            cp -a "$cache" '\(root)'
            test ! -e '\(root)/usr/bin/swift'
            """)
        guard made.status == 0 else {
            Issue.record("debootstrap could not make a Debian (no mirror reachable?): \(made.standardError)")
            return
        }
        let unpacked = try Self.unpack(into: directory)
        let copied = try Self.sh(
            """
            set -e
            cp -a '\(unpacked)' '\(root)/opt/trapline'
            mkdir -p '\(root)/data'
            cp '\(Fixtures.path("generated/shop-traces.otlp"))' '\(Fixtures.path("corpus/buildlogs/asm-stub-missing.arm64.log"))' '\(root)/data/'
            mount -t proc proc '\(root)/proc'
            """)
        #expect(copied.status == 0, "\(copied.standardError)")
        let replay = try Self.sh(
            "chroot '\(root)' /opt/trapline/bin/trapline replay /data/shop-traces.otlp -o /data/out.otlp"
        )
        let replayText = replay.standardError
        #expect(replay.status == 0, "\(replayText)")
        #expect(replayText.contains("2000 records received"), "\(replayText)")
        let gate = try Self.sh("chroot '\(root)' /opt/trapline/bin/trapline gate /data/asm-stub-missing.arm64.log")
        #expect(gate.status == 3)
        #expect(String(decoding: gate.standardOutput, as: UTF8.self).contains("asm_stub_missing"))
        try """
        receivers:
          otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}
        exporters:
          file: {path: /data/sidecar.jsonl, format: json}
        service:
          pipelines:
            traces: {receivers: [otlp], exporters: [file]}
        """.write(toFile: root + "/data/sidecar.yaml", atomically: true, encoding: .utf8)
        let sidecar = try BackgroundProcess(
            "/usr/sbin/chroot", [root, "/opt/trapline/bin/trapline", "run", "--config", "/data/sidecar.yaml"])
        defer { _ = sidecar.stop() }
        #expect(sidecar.wait { _, errors in errors.contains("listening:") }, "\(sidecar.standardError)")
        let port = Self.port("otlp", in: sidecar.standardError)
        let (status, _, _) = try SidecarCommandTests.request(
            "http://127.0.0.1:\(port)/v1/traces", method: "POST", headers: ["Content-Type": "application/json"],
            body: Array(Self.span.utf8))
        #expect(status == 200)
        let (metricsStatus, _, metrics) = try SidecarCommandTests.request("http://127.0.0.1:\(port)/metrics")
        #expect(metricsStatus == 200)
        #expect(String(decoding: metrics, as: UTF8.self).contains("trapline_records_received_total 1"))
        #expect(sidecar.stop() == 0)
        #expect((try? String(contentsOfFile: root + "/data/sidecar.jsonl", encoding: .utf8))?.contains("op") == true)
    }

    /// The OCI image (Scripts/build-image.sh) unpacked and run by runc as its configuration
    /// says (user 65532, the entrypoint), with a read-only root: it answers a request and
    /// /metrics on the host's loopback.
    @Test func theImageRunsUnderRuncAsANonRootUserWithAReadOnlyRoot() throws {
        guard getuid() == 0 else {
            Issue.record("runc needs root here; run the suite as root (CI does)")
            return
        }
        let directory = try Fixtures.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let built = try Self.sh(
            """
            set -e
            command -v runc >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runc >/dev/null; }
            cd '\(Fixtures.root.path)'
            bash Scripts/build-image.sh '\(Self.package!)' '\(directory)/image' | tail -1
            """)
        #expect(built.status == 0, "\(built.standardError)")
        let reference = String(decoding: built.standardOutput, as: UTF8.self).trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(FileManager.default.fileExists(atPath: directory + "/image/trapline.oci.tar"))
        let bundle = directory + "/bundle"
        let unpacked = try Self.sh("umoci unpack --image '\(reference)' '\(bundle)' >/dev/null")
        #expect(unpacked.status == 0, "\(unpacked.standardError)")
        // The image's own command, on a port the test picks (host network: the test's curl
        // reaches it), the root read-only as a Kubernetes pod would have it.
        let configPath = bundle + "/config.json"
        var config = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath))) as? [String: Any]
        )
        var process = try #require(config["process"] as? [String: Any])
        let arguments = try #require(process["args"] as? [String])
        #expect(arguments == ["/usr/local/bin/trapline", "run", "--config", "/etc/trapline/trapline.yaml"])
        let user = try #require(process["user"] as? [String: Any])
        #expect(user["uid"] as? Int == 65532)
        process["args"] = Array(arguments.dropLast()) + ["/etc/trapline/test.yaml"]
        process["terminal"] = false
        config["process"] = process
        var rootSettings = try #require(config["root"] as? [String: Any])
        rootSettings["readonly"] = true
        config["root"] = rootSettings
        var linux = try #require(config["linux"] as? [String: Any])
        linux["namespaces"] = (linux["namespaces"] as? [[String: Any]] ?? []).filter {
            $0["type"] as? String != "network"
        }
        config["linux"] = linux
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
        let image = try String(contentsOfFile: bundle + "/rootfs/etc/trapline/trapline.yaml", encoding: .utf8)
        try image.replacingOccurrences(of: "0.0.0.0:4317", with: "127.0.0.1:0")
            .replacingOccurrences(of: "0.0.0.0:4318", with: "127.0.0.1:0")
            .write(toFile: bundle + "/rootfs/etc/trapline/test.yaml", atomically: true, encoding: .utf8)
        let id = "trapline-test-\(getpid())"
        let container = try BackgroundProcess("/usr/sbin/runc", ["run", "--bundle", bundle, id])
        defer {
            _ = try? Self.sh("runc kill \(id) KILL 2>/dev/null; runc delete -f \(id) 2>/dev/null")
        }
        #expect(container.wait { _, errors in errors.contains("listening:") }, "\(container.standardError)")
        let port = Self.port("otlp", in: container.standardError)
        let (status, _, _) = try SidecarCommandTests.request(
            "http://127.0.0.1:\(port)/v1/traces", method: "POST", headers: ["Content-Type": "application/json"],
            body: Array(Self.span.utf8))
        #expect(status == 200)
        let (_, _, metrics) = try SidecarCommandTests.request("http://127.0.0.1:\(port)/metrics")
        #expect(String(decoding: metrics, as: UTF8.self).contains("trapline_records_received_total 1"))
        let (ready, _, _) = try SidecarCommandTests.request("http://127.0.0.1:\(port)/readyz")
        #expect(ready == 200)
        // The process runs as the image's user.
        let state = try Self.sh("runc state \(id)")
        let pid = (try? JSONSerialization.jsonObject(with: state.standardOutput) as? [String: Any])?["pid"] as? Int ?? 0
        let procStatus = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        #expect(
            procStatus.split(separator: "\n").contains { $0.hasPrefix("Uid:") && $0.contains("65532") }, "\(procStatus)"
        )
        _ = try Self.sh("runc kill \(id) TERM")
        #expect(container.stop(seconds: 30) == 0, "\(container.standardError)")
        // What it took went to standard output (the container's log) as OTLP JSON.
        #expect(container.standardOutput.contains(#""name":"op""#), "\(container.standardOutput)")
    }

    static let span =
        #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","#
        + #""spanId":"0102030405060708","name":"op"}]}]}]}"#

    static func port(_ name: String, in text: String) -> Int {
        text.range(of: "\(name) on port ").map { Int(text[$0.upperBound...].prefix { $0.isNumber }) ?? 0 } ?? 0
    }
}
