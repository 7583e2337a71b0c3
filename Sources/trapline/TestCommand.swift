import ArgumentParser
import Foundation
@_spi(Plumbing) import Trapline

/// `trapline test FILE…`: runs pipeline test files and says which tests failed and why.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run pipeline tests: input records through a pipeline, expectations on what comes out.",
        discussion: """
            A test file names its pipeline and lists tests: input records (OTLP JSON inline, or a capture \
            file), optionally the processors to run (default: all of the pipeline's), and expectations: \
            record counts (received, forwarded, filtered, blocked, rejected, rejected_by_reason), OTTL \
            conditions every, some or no output record matches, trap events (count, blocked, classes) and \
            TER. Paths in the test file are relative to it; the pipeline's own paths are read as `trapline \
            run` reads them. The pipeline's receivers and exporters are not used. See Pipelines/*.test.yaml.

            Exit status: 0 every test passed, 1 a test failed, 78 a test file has problems (each printed \
            with its line).
            """
    )

    @Argument(help: "Test files (YAML).")
    var files: [String]

    @Flag(name: [.short, .long], help: "Print only the failures and the count.")
    var quiet = false

    func run() throws {
        var loaded: [PipelineTestFile] = []
        var problems = false
        for path in files {
            switch PipelineTestFile.load(path: path) {
            case .success(let file): loaded.append(file)
            case .failure(let error):
                FileHandleOutput.standardError(error.description + "\n")
                problems = true
            }
        }
        if problems { throw ExitCode(78) }
        var passed = 0
        var failed = 0
        for file in loaded {
            for result in PipelineTestRunner.run(file) {
                if result.passed {
                    passed += 1
                    if !quiet { print("ok    \(file.path):\(result.line): \(result.name)") }
                } else {
                    failed += 1
                    print("FAIL  \(file.path):\(result.line): \(result.name)")
                    for failure in result.failures { print("        " + failure) }
                }
            }
        }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}
