#if canImport(Glibc)
    import Glibc
#endif

/// What every fuzz target shares. Each target defines `LLVMFuzzerTestOneInput` (with `@_cdecl`)
/// and no `main`: `-sanitize=fuzzer` links libFuzzer's, which reads the flags and corpus
/// directories and calls the target with each input; crashing (or a failed `require`) is a
/// finding.
public enum FuzzDriver {
    /// The input as an array (an empty input may have no base address).
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// A finding when `condition` is false. Unlike `precondition`, whose message an optimized
    /// build drops, the message reaches the log next to libFuzzer's report.
    public static func require(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fail(message()) }
    }

    /// A finding: prints `message` and aborts, which libFuzzer reports as a crash with the input.
    public static func fail(_ message: String) -> Never {
        let line = Array("fuzz check failed: \(message)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        abort()
    }
}
