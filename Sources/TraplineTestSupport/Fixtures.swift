public import Foundation

/// Paths of the repository's fixtures and tools, found from this file's location.
public enum Fixtures {
    /// The repository root.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Fixtures/<relative>`.
    public static func url(_ relative: String) -> URL {
        root.appendingPathComponent("Fixtures").appendingPathComponent(relative)
    }

    /// `Fixtures/<relative>` as a path.
    public static func path(_ relative: String) -> String { url(relative).path }

    /// The bytes of `Fixtures/<relative>`.
    public static func bytes(_ relative: String) throws -> [UInt8] { Array(try Data(contentsOf: url(relative))) }

    /// Every file under `Fixtures/<directory>` whose name ends with one of `suffixes`, sorted.
    public static func files(under directory: String, suffixes: [String]) -> [String] {
        let base = url(directory)
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { return [] }
        var found: [String] = []
        for case let file as URL in walker where suffixes.contains(where: { file.lastPathComponent.hasSuffix($0) }) {
            found.append(String(file.path.dropFirst(url("").path.count).drop(while: { $0 == "/" })))
        }
        return found.sorted()
    }

    /// A new empty temporary directory.
    public static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "trapline-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}

/// Runs programs (the built `trapline`, python3) and captures their output.
public enum ProcessRunner {
    /// What a run printed and returned.
    public struct Result: Sendable {
        public var status: Int32
        public var standardOutput: Data
        public var standardError: String
    }

    /// The built `trapline` binary beside the test bundle.
    public static var traplineBinary: URL {
        var directory = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("trapline")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return Fixtures.root.appendingPathComponent(".build/debug/trapline")
    }

    /// Runs `executable` with `arguments`, feeding `input` on stdin.
    public static func run(_ executable: URL, _ arguments: [String], input: Data? = nil) throws -> Result {
        // A child that exits before reading all its input must fail the write (EPIPE, ignored
        // below), not kill the whole test process with SIGPIPE (seen once in CI).
        signal(SIGPIPE, SIG_IGN)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        let inputPipe = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : inputPipe
        try process.run()
        if let input {
            DispatchQueue.global().async {
                // A process may exit before reading all of it (a refused configuration): the
                // broken pipe is its answer, not a failure of the test run.
                try? inputPipe.fileHandleForWriting.write(contentsOf: input)
                try? inputPipe.fileHandleForWriting.close()
            }
        }
        // Read both pipes concurrently so neither fills up and blocks the child.
        let errorData = DataBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errorData.data = error.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, standardOutput: outputData,
            standardError: String(decoding: errorData.data, as: UTF8.self))
    }

    /// Runs the built `trapline` binary.
    public static func trapline(_ arguments: [String], input: Data? = nil) throws -> Result {
        try run(traplineBinary, arguments, input: input)
    }

    /// Runs a bash script (pipelines, background writers, signals).
    public static func bash(_ script: String) throws -> Result {
        try run(URL(fileURLWithPath: "/bin/bash"), ["-c", script])
    }

    /// Runs `python3` with a script from `Tests/Scripts`.
    public static func python(_ script: String, _ arguments: [String]) throws -> Result {
        let path = Fixtures.root.appendingPathComponent("Tests/Scripts").appendingPathComponent(script).path
        return try run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", path] + arguments)
    }
}

/// Bytes filled by one thread and read by another after a `DispatchGroup.wait()`.
private final class DataBox: @unchecked Sendable {
    var data = Data()
}
