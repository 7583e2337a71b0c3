/// One trap found in a build log: its class, where the log shows it, and what to do about it.
public struct BuildLogTrap: Hashable, Sendable {
    /// The trap's class.
    public var trapClass: TrapClass
    /// The 1-based line of the log that proves the trap: the first the build printed, or a
    /// capture-header line when nothing else shows it.
    public var line: Int
    /// Every line that shows this same trap (the first included), ascending. A message the toolchain
    /// spreads over several lines lists each of them.
    public var evidenceLines: [Int]
    /// The text of the first evidence (a multi-line message joined), trimmed.
    public var evidence: String
    /// How to get rid of the trap.
    public var remedy: String
    /// Up to three lines of the log around `line` (the one before it, the two after it), for
    /// people reading the report.
    public var context: [String]

    /// Makes a trap. Allocates nothing (keeps the strings).
    public init(
        trapClass: TrapClass, line: Int, evidenceLines: [Int], evidence: String, remedy: String, context: [String] = []
    ) {
        self.trapClass = trapClass
        self.line = line
        self.evidenceLines = evidenceLines
        self.evidence = evidence
        self.remedy = remedy
        self.context = context
    }
}

/// What a build-log scan found, and what it could not decide.
public struct BuildLogAnalysis: Hashable, Sendable {
    /// The traps, ordered by their first line.
    public var traps: [BuildLogTrap]
    /// Rules that needed a package's sources and could not read them, in log order.
    public var skipped: [SkippedBuildLogRule]
}

/// A rule that could not decide because the package's sources were not readable: the log alone
/// does not tell a cgo-only package from an arch-only one.
public struct SkippedBuildLogRule: Hashable, Sendable {
    /// The class the rule would have reported.
    public var trapClass: TrapClass
    /// The package directory as the log names it (joined to the log's working directory).
    public var directory: String
    /// The 1-based line that called for the sources.
    public var line: Int

    /// One sentence for people: what was skipped and how to give the rule its sources.
    public var advice: String {
        "\(trapClass) not checked for \(directory): its sources are not readable here; run the gate in the "
            + "checkout that was built, or give it with --source-root DIR"
    }
}

extension TrapClass {
    /// The remedy the `go-crossbuild` pack gives for its classes; empty for other classes.
    ///
    /// They follow what the toolchain really does (see `Fixtures/corpus/buildlogs/`): the cache key already
    /// holds GOOS/GOARCH/GOARM, so one GOCACHE per target does not help against pollution.
    public var goCrossBuildRemedy: String {
        switch self {
        case .cachePollution:
            return "run `go clean -cache` (or `go build -a` once); restore CI caches by a content key, never a stale "
                + "one; for a stale package index set GODEBUG=goindex=0. One GOCACHE per target does not help: the "
                + "cache key already includes GOOS/GOARCH"
        case .asmStubMissing:
            return "add a pure-Go fallback file with the complementary build constraint (e.g. //go:build !amd64), "
                + "or provide the function in assembly for every GOARCH you build"
        case .goarmIgnored:
            return "set GOARM only with GOARCH=arm, and only to 5, 6 or 7 (optionally ,softfloat or ,hardfloat); "
                + "use GOARM64 for arm64. Go 1.23+ accepts other values silently and builds for 7"
        case .cgoImplicitlyDisabled:
            return "set CGO_ENABLED=1 and CC to a C cross compiler for the target (setting CC alone does not enable "
                + "cgo), or CGO_ENABLED=0 on purpose with a pure-Go fallback behind //go:build !cgo"
        default:
            return ""
        }
    }
}
