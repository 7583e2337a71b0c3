/// Finds the Go cross-compilation traps (the `go-crossbuild` pack) in one build log.
///
/// The rules follow what the toolchain really prints, as the labelled logs in `Fixtures/corpus/buildlogs/`
/// show (Go 1.21–1.27), including the near misses that must stay quiet: an arch-only package, an explicit
/// `CGO_ENABLED=1` with the wrong compiler, an explicit `CGO_ENABLED=0`, a GOARM the toolchain rejects,
/// tools older than the toolchain, package names containing "error". Context comes from the log itself
/// (`GoBuildContext`); whether a package has cgo files comes from its sources (``GoSourceInspector``).
///
/// A whole log is read before anything is reported, because evidence may come after what it explains
/// (`go env` output, a later rejection of GOARM). Not on the span hot path: it works on `Substring`s.
public struct GoBuildLogScanner: Sendable {
    /// The platform a log without a host line was built on, as `os/arch`.
    public var defaultHost: (os: String, arch: String)
    /// Reads package sources for the rules that need them.
    public var sources: any GoSourceInspector

    /// Makes a scanner.
    ///
    /// - Parameters:
    ///   - defaultHost: the build host when the log does not name it; by default this machine's.
    ///   - sources: where to read package sources; by default none (those rules stay quiet).
    ///
    /// Allocates nothing.
    public init(
        defaultHost: (os: String, arch: String) = GoBuildLogScanner.thisMachine,
        sources: any GoSourceInspector = NoGoSources()
    ) {
        self.defaultHost = defaultHost
        self.sources = sources
    }

    /// This machine as Go names it.
    public static var thisMachine: (os: String, arch: String) {
        #if arch(arm64)
            let arch = "arm64"
        #elseif arch(arm)
            let arch = "arm"
        #else
            let arch = "amd64"
        #endif
        #if os(macOS)
            return ("darwin", arch)
        #elseif os(Windows)
            return ("windows", arch)
        #else
            return ("linux", arch)
        #endif
    }

    /// The traps in `log`, ordered by their first line.
    ///
    /// - Parameter log: the whole log as text (plain output, `go build -json` events, or both).
    /// - Returns: one trap per distinct cause; a cause shown on several lines lists them all.
    ///
    /// Allocates the line index of the log and the traps found.
    public func scan(_ log: String) -> [BuildLogTrap] { analyze(log).traps }

    /// The traps in `log` and the rules that could not decide for want of package sources.
    ///
    /// - Parameter log: the whole log as text (plain output, `go build -json` events, or both).
    /// - Returns: the traps, as `scan` gives them, and one skipped rule per package whose sources
    ///   were needed and not readable.
    ///
    /// Allocates the line index of the log, the traps and the skipped rules.
    public func analyze(_ log: String) -> BuildLogAnalysis {
        let lines = BuildLogLines(log)
        // Parallel CI steps tagged line by line: each step is a log of its own.
        guard let steps = InterleavedSteps.split(lines.lines) else { return analyze(lines) }
        var analysis = BuildLogAnalysis(traps: [], skipped: [])
        for step in steps {
            let found = analyze(BuildLogLines(lines: step))
            analysis.traps += found.traps
            analysis.skipped += found.skipped
        }
        analysis.traps.sort { ($0.line, $0.trapClass) < ($1.line, $1.trapClass) }
        analysis.skipped.sort { $0.line < $1.line }
        return analysis
    }

    private func analyze(_ lines: BuildLogLines) -> BuildLogAnalysis {
        let context = GoBuildContext(lines)
        // A capture header's `# env:` or `# command:` line is evidence only where nothing the
        // build printed shows the same: a trap points at the build's own line when it has one.
        var findings = Findings(
            headerLines: Set(lines.lines.filter { GoBuildContext.isCaptureHeader($0.text) }.map(\.number)))
        scanMessages(lines.lines, context: context, into: &findings)
        scanGOARM(lines.lines, context: context, into: &findings)
        scanReportedCgo(context, into: &findings)
        scanUndefinedSymbols(lines.lines, into: &findings)
        scanStaleRuns(lines.lines, into: &findings)
        scanToolchainCrashes(lines.lines, into: &findings)
        var traps = findings.traps
        for index in traps.indices { traps[index].context = Self.context(of: traps[index].line, in: lines.lines) }
        return BuildLogAnalysis(traps: traps, skipped: findings.skipped)
    }

    /// The numbers of the lines of `log` that are records: every non-empty line, as `TextLogDecoder` makes
    /// one log record of each (so a gate and a replay of the same log count the same records). Allocates the set.
    public static func recordLines(in log: String) -> Set<Int> {
        var lines = Set<Int>()
        BuildLogLines.forEachLine(of: log) { line, number in if !line.isEmpty { lines.insert(number) } }
        return lines
    }

    /// The number of lines of `log` as the scanner numbers them (LF, CRLF and lone CR end a line).
    /// For tests.
    @_spi(Plumbing) public static func lineCount(_ log: String) -> Int {
        var count = 0
        BuildLogLines.forEachLine(of: log) { _, number in count = number }
        return count
    }

    /// The lines the rules read: escape sequences removed, `-json` events unwrapped. For tests.
    @_spi(Plumbing) public static func lineTexts(_ log: String) -> [String] {
        BuildLogLines(log).lines.map { String($0.text) }
    }

    // MARK: Messages on one line (or one message over a few)

    private func scanMessages(_ lines: [BuildLogLines.Line], context: GoBuildContext, into findings: inout Findings) {
        let listed = GoListCgoPackages(lines)
        let cgoExplicit = context.setting("CGO_ENABLED") != nil
        let cgoOff =
            !cgoExplicit
            && (context.isCrossBuild(defaultHost: defaultHost)
                || context.reported("CGO_ENABLED").contains { $0.value == "0" })
        var index = 0
        while index < lines.count {
            let line = lines[index]
            var text = line.text.trimmingSpaces()
            if let rest = text.dropPrefix("vet: ") { text = rest }
            defer { index += 1 }

            if text.has("could not import "),
                text.has("(object is [go object") || text.has("not the start of an archive file")
                    || text.has("can't find export data") || text.has("(open : no such file or directory)")
            {
                // The object-header message spans lines: join until its parentheses close.
                var joined = String(text)
                var numbers = [line.number]
                var depth = Self.parenthesisDepth(text)
                while depth > 0, index + 1 < lines.count, numbers.count < 8 {
                    index += 1
                    joined += lines[index].text
                    numbers.append(lines[index].number)
                    depth += Self.parenthesisDepth(lines[index].text)
                }
                findings.add(.cachePollution, subject: joined, lines: numbers, evidence: joined)
            } else if text.has("linked object header mismatch") || text.has("cache verify failed") {
                findings.add(.cachePollution, subject: String(text), lines: [line.number], evidence: String(text))
            } else if text.hasSuffix(": missing function body")
                || (text.has("relocation target ") && text.hasSuffix(" not defined"))
            {
                findings.add(.asmStubMissing, subject: String(text), lines: [line.number], evidence: String(text))
            } else if text.has("requires cgo to work") {
                // go-sqlite3's stub: a trap unless cgo was switched off on purpose.
                if context.setting("CGO_ENABLED")?.value != "0" {
                    findings.add(
                        .cgoImplicitlyDisabled, subject: String(text), lines: [line.number], evidence: String(text))
                }
            } else if cgoOff, text.has("build constraints exclude"),
                let directory = text.firstRange(of: "build constraints exclude all Go files in ")
            {
                let path = String(text[directory.upperBound...])
                // `package example.com/x: build constraints …`, or `imports example.com/x: …`.
                let importPath = text[..<directory.lowerBound].split(separator: " ").last.map { $0.dropLast() }
                let fromLog = listed.lists(importPath: importPath, directory: path)
                switch fromLog ? true : sources.packageUsesCgo(directory: join(context.workingDirectory, path)) {
                case true?:
                    findings.add(
                        .cgoImplicitlyDisabled, subject: String(text), lines: [line.number], evidence: String(text))
                case false?: break
                case nil: findings.skip(.cgoImplicitlyDisabled, directory: path, line: line.number)
                }
            } else if cgoOff, text.has(": undefined: "), let undefined = text.firstRange(of: ": undefined: ") {
                // `./main.go:6:22: undefined: sum`: a trap when the name lives in an import "C" file.
                let name = String(text[undefined.upperBound...])
                let file = text[..<undefined.lowerBound].split(separator: ":").first.map(String.init) ?? "."
                let directory = join(context.workingDirectory, Self.directory(of: file))
                switch sources.cgoFileDeclares(name, directory: directory) {
                case true?:
                    findings.add(
                        .cgoImplicitlyDisabled, subject: String(text), lines: [line.number], evidence: String(text))
                case false?: break
                case nil: findings.skip(.cgoImplicitlyDisabled, directory: directory, line: line.number)
                }
            } else if cgoOff, text.hasPrefix("go package net: using the Go DNS resolver") {
                findings.add(
                    .cgoImplicitlyDisabled, subject: "net resolver", lines: [line.number], evidence: String(text))
            }
        }
    }

    // MARK: GOARM

    private func scanGOARM(_ lines: [BuildLogLines.Line], context: GoBuildContext, into findings: inout Findings) {
        guard !context.rejectsGOARM,
            let goarm = context.setting("GOARM")?.value
                ?? context.reported("GOARM").last(where: { $0.source == .buildInfo })?.value
        else { return }
        let arch = context.target(defaultHost: defaultHost).arch
        var evidence = context.settingLines("GOARM") + context.reported("GOARM").map(\.line)
        if arch != "arm" {
            // GOARM means nothing here: the build information and go env show the arch's own settings.
            evidence += context.reported("GOARCH").filter { $0.source == .buildInfo }.map(\.line)
            evidence += context.reported("GOARM64").filter { $0.source == .buildInfo }.map(\.line)
            findings.add(
                .goarmIgnored, subject: "GOARM", lines: evidence,
                evidence: "GOARM=\(goarm) has no effect with GOARCH=\(arch)")
        } else if !Self.isValidGOARM(goarm) {
            // Go 1.23+ takes it silently: the assembler gets only GOARM_5, the compiler uses 7.
            if !goarm.hasPrefix("5") {
                for line in lines
                where line.text.has("-D GOARCH_arm -D GOARM_5") && !line.text.has("-D GOARM_6") {
                    evidence.append(line.number)
                }
            }
            findings.add(
                .goarmIgnored, subject: "GOARM", lines: evidence,
                evidence: "GOARM=\(goarm) is not 5, 6 or 7: accepted silently and built as GOARM=7")
        }
    }

    /// `5`, `6` or `7`, optionally `,softfloat` or `,hardfloat` (Go 1.22+).
    static func isValidGOARM(_ value: String) -> Bool {
        let parts = value.split(separator: ",", omittingEmptySubsequences: false)
        guard let level = parts.first, ["5", "6", "7"].contains(level) else { return false }
        return parts.count == 1 || (parts.count == 2 && (parts[1] == "softfloat" || parts[1] == "hardfloat"))
    }

    // MARK: cgo as the toolchain reports it

    private func scanReportedCgo(_ context: GoBuildContext, into findings: inout Findings) {
        guard context.setting("CGO_ENABLED") == nil else { return }
        for value in context.reported("CGO_ENABLED") where value.value == "0" {
            switch value.source {
            case .goEnv:
                findings.add(
                    .cgoImplicitlyDisabled, subject: "go env", lines: [value.line],
                    evidence: "go env: CGO_ENABLED=0 although CGO_ENABLED was never set")
            case .buildInfo:
                // Harmless for a program without cgo code; a trap when its package falls back to !cgo files.
                let directory = context.workingDirectory ?? "."
                switch sources.packageUsesCgo(directory: directory) {
                case true?:
                    findings.add(
                        .cgoImplicitlyDisabled, subject: "build info", lines: [value.line],
                        evidence:
                            "built with CGO_ENABLED=0 although the package has cgo files and CGO_ENABLED was never set")
                case false?: break
                case nil: findings.skip(.cgoImplicitlyDisabled, directory: directory, line: value.line)
                }
            case .setting:
                break
            }
        }
    }

    // MARK: Symbols (go tool nm)

    /// `U pkg.Name` that no object of the listing defines, while the same package's objects are listed:
    /// the target's assembly lacks the symbol. Undefined names of packages not listed are just imports.
    private func scanUndefinedSymbols(_ lines: [BuildLogLines.Line], into findings: inout Findings) {
        var defined = Set<Substring>()
        var undefined: [(symbol: Substring, line: Int)] = []
        for line in lines {
            let listing =
                line.text.has("):\t")
                ? line.text.firstRange(of: "):\t").map { line.text[$0.upperBound...] } ?? line.text : line.text
            guard listing.first == " " || listing.first == "\t" else { continue }
            let words = listing.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if words.count == 2, words[0] == "U" {
                undefined.append((words[1], line.number))
            } else if words.count == 3, words[1].count == 1, words[1] != "U", words[0].allSatisfy(\.isHexDigit) {
                defined.insert(words[2])
            }
        }
        let packages = Set(defined.compactMap { symbol in symbol.lastIndex(of: ".").map { symbol[..<$0] } })
        for (symbol, line) in undefined where !defined.contains(symbol) {
            guard let dot = symbol.lastIndex(of: "."), packages.contains(symbol[..<dot]),
                symbol[symbol.index(after: dot)...].first?.isLetter == true
            else { continue }
            findings.add(
                .asmStubMissing, subject: String(symbol), lines: [line],
                evidence: "\(symbol) is referenced (U) but no object for this target defines it")
        }
    }

    // MARK: Stale cached results (set -x traces)

    /// `+ go run X` followed, later, by `+ go run -a X` (a forced rebuild) that prints something else: the
    /// cached build was stale (e.g. a C header outside the package changed).
    private func scanStaleRuns(_ lines: [BuildLogLines.Line], into findings: inout Findings) {
        var lastRun: [Substring: [BuildLogLines.Line]] = [:]
        var index = 0
        while index < lines.count {
            guard let command = GoBuildContext.traceCommand(lines[index].text), command.hasPrefix("go run ") else {
                index += 1
                continue
            }
            var words = command.split(separator: " ")
            let forced = words.contains("-a")
            words.removeAll { $0 == "-a" }
            let key = Substring(words.joined(separator: " "))
            var output: [BuildLogLines.Line] = []
            index += 1
            while index < lines.count, GoBuildContext.traceCommand(lines[index].text) == nil {
                output.append(lines[index])
                index += 1
            }
            if forced, let cached = lastRun[key],
                let stale = zip(cached, output).first(where: { $0.0.text != $0.1.text })?.0
                    ?? (cached.count > output.count ? cached[output.count] : nil)
            {
                findings.add(
                    .cachePollution, subject: "stale \(key)", lines: [stale.number],
                    evidence:
                        "`\(key)` printed \"\(stale.text)\" from the cache; a forced rebuild (-a) prints otherwise")
            } else if !forced {
                lastRun[key] = output
            }
        }
    }

    // MARK: The compiler, vet or linker crashing on a damaged cache entry

    /// Frames of the code that reads export data and object files: a panic there is the reader
    /// meeting bytes that are not what it wrote (a damaged or foreign cache entry).
    static let readerFrames = [
        "go/internal/gcimporter.", "cmd/compile/internal/importer.", "internal/pkgbits.", "cmd/internal/goobj.",
        "cmd/link/internal/loader.", "golang.org/x/tools/internal/gcimporter.", "cmd/compile/internal/noder.",
    ]

    /// How the export-data reader fails on bytes it did not write (`internal/pkgbits` asserts).
    static let readerFailures = [
        "panic: assertion failed", "assertion failed", "panic: unexpected decoding error", "unexpected decoding error",
    ]

    /// What the linker says when a symbol's data contradicts itself: with object files it wrote
    /// itself, only damaged input does that.
    static let linkerInconsistencies = [": missing type", ": initialize bounds (", ": phase error: addr="]

    /// A toolchain crash while reading a dependency (an internal compiler error without a source
    /// position or with the export-data reader's own failure, a panic in the export-data or
    /// object-file readers, the linker's self-contradictions)
    /// is a damaged build-cache entry: the dependency's archive comes from the cache. A crash the
    /// log shows again after `go clean -cache` (or a `-a` rebuild) is a real toolchain bug instead,
    /// and one that goes away there is confirmed damage.
    private func scanToolchainCrashes(_ lines: [BuildLogLines.Line], into findings: inout Findings) {
        var crashes: [(line: BuildLogLines.Line, signature: Substring)] = []
        var cleanedAt: Int?
        var repeatedAfterClean = Set<Substring>()
        var index = 0
        while index < lines.count {
            let line = lines[index]
            defer { index += 1 }
            // Byte searches first: most lines are none of these, and trimming walks Characters.
            let raw = line.text
            guard
                raw.has("error: ") || raw.has("panic: ") || raw.has(": missing type") || raw.has(" bounds (")
                    || raw.has(": phase error: ") || raw.has("go clean -cache") || raw.has(" -a ")
            else { continue }
            let text = raw.trimmingSpaces()
            // The capture header names the whole command line, not when its parts ran.
            if GoBuildContext.isCaptureHeader(text) { continue }
            if text.has("go clean -cache") || (text.has("go build ") && text.has(" -a "))
                || (text.has("go test ") && text.has(" -a "))
            {
                if cleanedAt == nil { cleanedAt = index }
                continue
            }
            var signature: Substring?
            if let marker = text.firstRange(of: "internal compiler error: ") {
                // Without a position it failed reading a dependency; with one (Go 1.26+ gives the
                // use site), only the export-data reader's own failures count.
                let message = text[marker.upperBound...]
                if text[..<marker.lowerBound].hasPrefix("<unknown line number>")
                    || Self.readerFailures.contains(where: { message.hasPrefix($0) })
                {
                    signature = message
                }
            } else if text.hasPrefix("panic: "), !text.hasPrefix("panic: test timed out"),
                !text.has("unsupported version")
            {
                // (`unsupported version`: export data newer than the tool reading it, not damage.)
                // A panic of a toolchain program: look at its first frames.
                var frame = index + 1
                while frame < lines.count, frame - index < 40 {
                    let frameText = lines[frame].text
                    if frameText.hasPrefix("FAIL") || frameText.hasPrefix("# ") { break }
                    // Function lines start at column 0 (`cmd/internal/goobj.(*Reader).Data(…)`);
                    // the file lines under them are paths with `/`, which these never match.
                    if Self.readerFrames.contains(where: { frameText.hasPrefix($0) }) {
                        signature = text
                        break
                    }
                    frame += 1
                }
            } else if Self.linkerInconsistencies.contains(where: { text.has($0) }) {
                signature = text
            }
            guard let signature else { continue }
            if cleanedAt == nil {
                crashes.append((line, signature))
            } else if crashes.contains(where: { $0.signature == signature }) {
                repeatedAfterClean.insert(signature)
            }
        }
        for crash in crashes where !repeatedAfterClean.contains(crash.signature) {
            findings.add(
                .cachePollution, subject: "toolchain crash", lines: [crash.line.number],
                evidence: String(crash.line.text.trimmingSpaces()))
        }
    }

    // MARK: Helpers

    /// Up to three lines around the evidence line for the report: the one before it and the two
    /// after it, capture-header lines left out.
    static func context(of number: Int, in lines: [BuildLogLines.Line]) -> [String] {
        guard let index = lines.firstIndex(where: { $0.number == number }) else { return [] }
        let around = [index - 1, index + 1, index + 2].filter { $0 >= 0 && $0 < lines.count }
        return around.map { lines[$0] }.filter { !GoBuildContext.isCaptureHeader($0.text) }.map { String($0.text) }
    }

    private static func parenthesisDepth(_ text: Substring) -> Int {
        text.reduce(0) { $0 + ($1 == "(" ? 1 : $1 == ")" ? -1 : 0) }
    }

    private static func directory(of file: String) -> String {
        guard let slash = file.lastIndex(of: "/") else { return "." }
        return String(file[..<slash])
    }

    /// `path` as seen from the log's working directory.
    private func join(_ base: String?, _ path: String) -> String {
        guard let base, !path.hasPrefix("/"), !path.hasPrefix("$") else { return path }
        var relative = Substring(path)
        while let rest = relative.dropPrefix("./") { relative = rest }
        if relative == "." || relative.isEmpty { return base }
        return base + "/" + relative
    }
}

/// Traps found so far, one per class and cause; a cause seen again adds its lines.
private struct Findings {
    /// Lines of the log's capture header.
    let headerLines: Set<Int>
    private var byCause: [String: BuildLogTrap] = [:]
    /// Rules that needed sources they could not read, once per class and directory.
    private(set) var skipped: [SkippedBuildLogRule] = []

    mutating func skip(_ trapClass: TrapClass, directory: String, line: Int) {
        guard !skipped.contains(where: { $0.trapClass == trapClass && $0.directory == directory }) else { return }
        skipped.append(SkippedBuildLogRule(trapClass: trapClass, directory: directory, line: line))
    }

    init(headerLines: Set<Int>) { self.headerLines = headerLines }

    mutating func add(_ trapClass: TrapClass, subject: String, lines: [Int], evidence: String) {
        guard let first = lines.filter({ !headerLines.contains($0) }).min() ?? lines.min() else { return }
        let key = trapClass.rawValue + "\u{0}" + subject
        if var known = byCause[key] {
            known.evidenceLines = Array(Set(known.evidenceLines + lines)).sorted()
            let knownIsHeader = headerLines.contains(known.line)
            let firstIsHeader = headerLines.contains(first)
            if knownIsHeader != firstIsHeader ? knownIsHeader : first < known.line {
                (known.line, known.evidence) = (first, evidence)
            }
            byCause[key] = known
        } else {
            byCause[key] = BuildLogTrap(
                trapClass: trapClass, line: first, evidenceLines: Array(Set(lines)).sorted(), evidence: evidence,
                remedy: trapClass.goCrossBuildRemedy)
        }
    }

    var traps: [BuildLogTrap] {
        byCause.values.sorted { ($0.line, $0.trapClass) < ($1.line, $1.trapClass) }
    }
}
