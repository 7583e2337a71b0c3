@_spi(Plumbing) import Trapline

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// When to show replay progress on stderr.
enum ProgressMode: String, CaseIterable {
    /// Only when stderr is a terminal (never in pipes or CI logs).
    case auto
    case always
    case never
}

/// Redraws one progress line on stderr, at most five times a second.
///
/// `@unchecked Sendable`: the replay calls it from its one replaying thread only.
final class ProgressPrinter: @unchecked Sendable {
    private var lastDraw: timespec = timespec()
    private var drew = false

    /// Draws `progress` if 200 ms passed since the last drawing.
    func update(_ progress: ReplayProgress) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let elapsed = Double(now.tv_sec - lastDraw.tv_sec) + Double(now.tv_nsec - lastDraw.tv_nsec) / 1e9
        guard !drew || elapsed >= 0.2 else { return }
        lastDraw = now
        drew = true
        FileHandleOutput.standardError("\r\u{1B}[K" + progress.line)
    }

    /// Ends the line, if one was drawn.
    func finish() {
        if drew { FileHandleOutput.standardError("\r\u{1B}[K") }
    }
}
