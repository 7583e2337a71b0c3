import Foundation
import Testing
import TraplineTestSupport

/// Issue 10: the C ABI (include/trapline.h, libTraplineC.so) from a C program built with the
/// system compiler in the test, replaying a fixture and checking the accounting.
@Suite struct CABITests {
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
}
