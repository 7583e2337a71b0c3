import Foundation
import Testing
@_spi(Plumbing) import Trapline
@_spi(Plumbing) import TraplineStages
@_spi(Plumbing) import TraplineTestSupport

/// The `go-crossbuild` rules against the real, labelled Go toolchain logs of `Fixtures/corpus/buildlogs/`
/// (Go 1.21–1.27): the 85 of the shared corpus and those `Scripts/capture-buildlogs.py` captured
/// (`captured/`), with the packages' sources in `Fixtures/buildlogs-home/`.
@Suite struct GoBuildLogScannerTests {
    /// One row of a `labels.tsv`.
    struct Label {
        var lines: Set<Int>
        var trapClass: String
    }

    /// Labels by log path relative to `corpus/buildlogs/`.
    static let labels: [String: [Label]] = {
        var labels: [String: [Label]] = [:]
        for (directory, prefix) in [("corpus/buildlogs", ""), ("corpus/buildlogs/captured", "captured/")] {
            guard let text = try? String(contentsOfFile: Fixtures.path(directory + "/labels.tsv"), encoding: .utf8)
            else { continue }
            for row in text.split(separator: "\n").dropFirst() {
                let fields = row.split(separator: "\t", omittingEmptySubsequences: false)
                guard fields.count >= 3 else { continue }
                labels[prefix + fields[0], default: []].append(
                    Label(lines: lineSet(fields[1]), trapClass: String(fields[2])))
            }
        }
        return labels
    }()

    /// `3`, `3-5`, `3,7,9-10`, or `-` (no line).
    static func lineSet(_ text: Substring) -> Set<Int> {
        guard text != "-" else { return [] }
        var lines = Set<Int>()
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-").compactMap { Int($0) }
            if bounds.count == 2 {
                lines.formUnion(bounds[0]...bounds[1])
            } else if let line = bounds.first {
                lines.insert(line)
            }
        }
        return lines
    }

    static let scanner = GoBuildLogScanner(
        defaultHost: ("linux", "amd64"),
        sources: FileSystemGoSources(environment: ["HOME": Fixtures.path("buildlogs-home")], workingDirectory: "/"))

    static let logs = Fixtures.files(under: "corpus/buildlogs", suffixes: [".log"])

    static func name(_ path: String) -> String { String(path.dropFirst("corpus/buildlogs/".count)) }

    @Test func everyLabelledLogIsInTheFixtures() {
        #expect(Self.logs.count >= 150)
        #expect(Set(Self.labels.keys) == Set(Self.logs.map(Self.name)))
    }

    @Test(arguments: logs)
    func reportsExactlyTheLabelledClassesAndNothingOnANearMiss(_ path: String) throws {
        let name = Self.name(path)
        let labels = try #require(Self.labels[name])
        let traps = Self.scanner.scan(try String(contentsOfFile: Fixtures.path(path), encoding: .utf8))
        let expected = Set(labels.map(\.trapClass).filter { $0 != "none" })
        #expect(
            Set(traps.map(\.trapClass.rawValue)) == expected,
            "\(name): \(traps.map { ($0.line, $0.trapClass.rawValue) })")
        let nearMisses = labels.filter { $0.trapClass == "none" }.reduce(into: Set<Int>()) { $0.formUnion($1.lines) }
        for trap in traps {
            #expect(nearMisses.isDisjoint(with: trap.evidenceLines), "\(name): \(trap.trapClass) on a near miss")
            // Every line a trap names is labelled with that class, or not labelled at all.
            let otherClass = labels.filter { $0.trapClass != trap.trapClass.rawValue }
                .reduce(into: Set<Int>()) { $0.formUnion($1.lines) }
            #expect(
                otherClass.isDisjoint(with: trap.evidenceLines), "\(name): \(trap.trapClass) at \(trap.evidenceLines)")
            #expect(trap.remedy.isEmpty == false)
        }
    }

    /// Recall and precision per (file, class) over the whole corpus, both 1.00, with at least
    /// 20 logs of each trap class; the counts are printed for the record.
    @Test func recallAndPrecisionPerFileAndClassAreOne() throws {
        var truePositives = 0
        var falsePositives = 0
        var falseNegatives = 0
        var logsPerClass: [String: Int] = [:]
        for path in Self.logs {
            let name = Self.name(path)
            let expected = Set((Self.labels[name] ?? []).map(\.trapClass).filter { $0 != "none" })
            let found = Set(
                Self.scanner.scan(try String(contentsOfFile: Fixtures.path(path), encoding: .utf8))
                    .map(\.trapClass.rawValue))
            truePositives += expected.intersection(found).count
            falsePositives += found.subtracting(expected).count
            falseNegatives += expected.subtracting(found).count
            for trapClass in expected { logsPerClass[trapClass, default: 0] += 1 }
            if expected.isEmpty { logsPerClass["none", default: 0] += 1 }
        }
        print("build-log corpus: \(Self.logs.count) logs; per class \(logsPerClass.sorted { $0.key < $1.key })")
        print("(file, class): \(truePositives) found, \(falsePositives) false, \(falseNegatives) missed")
        #expect(falsePositives == 0 && falseNegatives == 0)
        for trapClass in TrapClass.goCrossBuild { #expect(logsPerClass[trapClass.rawValue, default: 0] >= 20) }
    }

    @Test func labelledLinesAreFoundAsEvidence() throws {
        // Beyond the class set: most labelled lines are named by a trap, line for line.
        var labelled = 0
        var found = 0
        for path in Self.logs {
            let name = Self.name(path)
            let traps = Self.scanner.scan(try String(contentsOfFile: Fixtures.path(path), encoding: .utf8))
            for label in Self.labels[name] ?? [] where label.trapClass != "none" {
                labelled += label.lines.count
                found +=
                    label.lines.filter { line in
                        traps.contains { $0.trapClass.rawValue == label.trapClass && $0.evidenceLines.contains(line) }
                    }.count
            }
        }
        print("labelled trap lines named as evidence: \(found) of \(labelled)")
        #expect(found * 10 >= labelled * 9)
    }

    /// Without the sources, the cgo rules that need them say which package they skipped, once,
    /// and nothing else changes: every other class is still found.
    @Test func withoutSourcesTheCgoRulesSayWhatTheySkipped() throws {
        let blind = GoBuildLogScanner(defaultHost: ("linux", "amd64"))
        let log = try String(
            contentsOfFile: Fixtures.path("corpus/buildlogs/captured/cgo-cross.cgo-only.go1.24.log"), encoding: .utf8)
        let analysis = blind.analyze(log)
        #expect(analysis.traps.isEmpty)
        #expect(analysis.skipped.map(\.directory) == ["$HOME/src/cgo-only"])
        #expect(analysis.skipped.first?.advice.contains("--source-root DIR") == true)
        #expect(Self.scanner.analyze(log).skipped.isEmpty)
        // The log proves it alone when its own go list showed the package's cgo files.
        let listed = try String(
            contentsOfFile: Fixtures.path("corpus/buildlogs/captured/cgo-cross.cgo-only.list.go1.24.log"),
            encoding: .utf8)
        #expect(blind.analyze(listed).traps.map(\.trapClass) == [.cgoImplicitlyDisabled])
        #expect(blind.analyze(listed).skipped.isEmpty)
        for path in Self.logs where !Self.name(path).contains("cgo") {
            let text = try String(contentsOfFile: Fixtures.path(path), encoding: .utf8)
            let withSources = Set(Self.scanner.scan(text).map(\.trapClass))
            let withoutSources = Set(blind.scan(text).map(\.trapClass))
            #expect(
                withSources.subtracting([.cgoImplicitlyDisabled])
                    == withoutSources.subtracting([.cgoImplicitlyDisabled]))
        }
    }
}

/// Behaviour the corpus shows only implicitly.
@Suite struct GoBuildLogScannerRuleTests {
    static let cgoOnlyLog = """
        GOOS=linux GOARCH=arm64 go build -o /dev/null .
        package example.com/cgoonly: build constraints exclude all Go files in $HOME/src/cgoonly
        """

    @Test func withoutTheSourcesAnAmbiguousExclusionStaysQuiet() {
        // Only the package's files tell a cgo-only package from an arch-only one.
        #expect(GoBuildLogScanner(defaultHost: ("linux", "amd64")).scan(Self.cgoOnlyLog).isEmpty)
        let sources = FileSystemGoSources(environment: ["HOME": Fixtures.path("buildlogs-home")], workingDirectory: "/")
        let traps = GoBuildLogScanner(defaultHost: ("linux", "amd64"), sources: sources).scan(Self.cgoOnlyLog)
        #expect(traps.map(\.trapClass) == [.cgoImplicitlyDisabled])
        #expect(traps.map(\.line) == [2])
    }

    @Test func anExplicitCgoSettingIsNeverATrap() {
        let sources = FileSystemGoSources(environment: ["HOME": Fixtures.path("buildlogs-home")], workingDirectory: "/")
        let log = Self.cgoOnlyLog.replacingOccurrences(of: "GOARCH=arm64 go", with: "GOARCH=arm64 CGO_ENABLED=0 go")
        #expect(GoBuildLogScanner(defaultHost: ("linux", "amd64"), sources: sources).scan(log).isEmpty)
    }

    @Test func aNativeBuildOnTheSameHostIsNotCross() {
        let sources = FileSystemGoSources(environment: ["HOME": Fixtures.path("buildlogs-home")], workingDirectory: "/")
        // The same message on an arm64 host building for arm64: cgo was not switched off by cross-compiling.
        #expect(GoBuildLogScanner(defaultHost: ("linux", "arm64"), sources: sources).scan(Self.cgoOnlyLog).isEmpty)
    }

    @Test func goSQLiteStubFiresUnlessCgoWasSwitchedOffOnPurpose() {
        let stub =
            "2026/12/02 sqlite: Binary was compiled with 'CGO_ENABLED=0', go-sqlite3 requires cgo to work. This is a stub"
        #expect(GoBuildLogScanner().scan("GOARCH=arm64 go run .\n" + stub).map(\.trapClass) == [.cgoImplicitlyDisabled])
        #expect(GoBuildLogScanner().scan("CGO_ENABLED=0 go run .\n" + stub).isEmpty)
    }

    @Test func jsonEventsAreUnwrappedAndEscapesDecoded() {
        let log =
            #"{"ImportPath":"x","Action":"build-output","Output":"vec/add.go:4:6: missing function body\n"}"#
            + "\n" + #"{"ImportPath":"x","Action":"build-fail"}"#
        let traps = GoBuildLogScanner().scan(log)
        #expect(traps.map(\.evidence) == ["vec/add.go:4:6: missing function body"])
        #expect(traps.map(\.line) == [1])
    }

    @Test func jsonEventsAreReadAsJSONWhateverTheSpacingAndOrder() {
        let compact = #"{"ImportPath":"x","Action":"build-output","Output":"vec/add.go:4:6: missing function body\n"}"#
        let spaced =
            #"{ "Output" : "vec/add.go:4:6: missing function body\n" ,  "Action": "build-output", "N": [1, {"a": "}"}] }"#
        for log in [compact, spaced] {
            #expect(GoBuildLogScanner().scan(log).map(\.evidence) == ["vec/add.go:4:6: missing function body"])
        }
        // Not an event (no Action), or not JSON at all: read as plain text.
        let notAnEvent = #"{"Output": "vec/add.go:4:6: missing function body"}"#
        #expect(BuildLogLinesProbe.texts(notAnEvent) == [notAnEvent])
        #expect(BuildLogLinesProbe.texts(#"{"Action": "output", "Output": "#) == [#"{"Action": "output", "Output": "#])
        #expect(GoBuildLogScanner().scan(#"{"Action": "output", "Output": "no trap here\n"}"#).isEmpty)
    }

    /// A trap points at what the build printed (here the build information's GOARM=8), not at
    /// the capture header that set it, and carries the lines around it.
    @Test func aTrapPointsAtTheBuildsOwnLineWithItsContext() throws {
        let log = try String(
            contentsOfFile: Fixtures.path("corpus/buildlogs/captured/goarm-invalid.arm.go1.24.log"), encoding: .utf8)
        let trap = try #require(GoBuildLogScanner(defaultHost: ("linux", "amd64")).scan(log).first)
        #expect(trap.line == 18)
        #expect(trap.evidenceLines == [3, 18])
        // The last line of the log: only the one before it is there.
        #expect(trap.context == ["\tbuild\tGOOS=linux"])
        let middle = try #require(
            GoBuildLogScanner().scan("a\nb\nvec/add.go:4:6: missing function body\nc\nd\ne").first)
        #expect(middle.context == ["b", "c", "d"])
    }

    /// Parallel steps tagged line by line are read as logs of their own, so one step's explicit
    /// CGO_ENABLED=0 does not hide another's implicit one; every tag form the gate knows.
    @Test(arguments: [
        ("[native] ", "[arm64] "), ("#7 0.412 ", "#9 0.415 "), ("native   | ", "arm64    | "),
    ])
    func interleavedStepsAreReadApart(native: String, arm64: String) {
        let log = [
            native + "+ CGO_ENABLED=0", native + "+ go build -o /dev/null .", arm64 + "+ GOOS=linux",
            arm64 + "+ GOARCH=arm64", arm64 + "+ go build -o /dev/null .",
            native + "package example.com/cgo-only: build constraints exclude all Go files in $HOME/src/cgo-only",
            arm64 + "package example.com/cgo-only: build constraints exclude all Go files in $HOME/src/cgo-only",
        ].joined(separator: "\n")
        let sources = FileSystemGoSources(environment: ["HOME": Fixtures.path("buildlogs-home")], workingDirectory: "/")
        let traps = GoBuildLogScanner(defaultHost: ("linux", "amd64"), sources: sources).scan(log)
        #expect(traps.map(\.line) == [7])
        #expect(traps.map(\.trapClass) == [.cgoImplicitlyDisabled])
        // Read as one log, the native step's CGO_ENABLED=0 would count for both.
        let untagged = log.split(separator: "\n").map { line in
            line.replacingOccurrences(of: native, with: "").replacingOccurrences(of: arm64, with: "")
        }.joined(separator: "\n")
        #expect(GoBuildLogScanner(defaultHost: ("linux", "amd64"), sources: sources).scan(untagged).isEmpty)
    }

    @Test func aCIRunnersTimestampsAreNotPartOfTheLine() {
        let log =
            "2026-12-07T01:02:03.1234567Z # example.com/vec\n"
            + "2026-12-07T01:02:03.1239999Z vec/add.go:4:6: missing function body\n2026-12-07 not a stamp"
        #expect(GoBuildLogScanner().scan(log).map(\.evidence) == ["vec/add.go:4:6: missing function body"])
        #expect(
            BuildLogLinesProbe.texts(log) == [
                "# example.com/vec", "vec/add.go:4:6: missing function body", "2026-12-07 not a stamp",
            ])
    }

    @Test func goListJSONShowingCgoFilesProvesACgoPackage() {
        let log = """
            + go list -json ./store
            {
            \t"Dir": "/src/app/store",
            \t"ImportPath": "example.com/app/store",
            \t"CgoFiles": [
            \t\t"sqlite.go"
            \t],
            \t"GoFiles": [
            \t\t"store.go"
            \t]
            }
            + GOOS=linux GOARCH=arm64 go build ./...
            package example.com/app/store: build constraints exclude all Go files in /src/app/store
            """
        #expect(GoBuildLogScanner(defaultHost: ("linux", "amd64")).scan(log).map(\.line) == [13])
        let withoutCgoFiles = log.replacingOccurrences(of: "\"CgoFiles\": [\n\t\t\"sqlite.go\"\n\t],\n", with: "")
        #expect(GoBuildLogScanner(defaultHost: ("linux", "amd64")).scan(withoutCgoFiles).isEmpty)
    }

    @Test func colourCodesAreNotPartOfTheMessage() {
        let log =
            "\u{1B}[1;31mvec/add.go:4:6: missing function body\u{1B}[0m\r\n\u{1B}]8;;file:///x\u{7}link\u{1B}]8;;\u{1B}\\"
        let traps = GoBuildLogScanner().scan(log)
        #expect(traps.map(\.evidence) == ["vec/add.go:4:6: missing function body"])
        #expect(BuildLogLinesProbe.texts(log) == ["vec/add.go:4:6: missing function body", "link"])
    }

    /// A crash of the compiler on its own bug has a source position; a crash reading a damaged
    /// dependency has none, and goes away after `go clean -cache`. One that comes back is no trap.
    @Test func aCrashThatComesBackAfterCleaningTheCacheIsAToolchainBug() {
        let damaged = """
            + go build -o /dev/null .
            # example.com/hello
            <unknown line number>: internal compiler error: panic: unexpected decoding error: EOF
            """
        #expect(GoBuildLogScanner().scan(damaged).map(\.trapClass) == [.cachePollution])
        #expect(GoBuildLogScanner().scan(damaged).map(\.line) == [3])
        let confirmed = damaged + "\n+ go clean -cache\n+ go build -o /dev/null .\n+ echo ok\nok"
        #expect(GoBuildLogScanner().scan(confirmed).map(\.trapClass) == [.cachePollution])
        let repeated =
            damaged + "\n+ go clean -cache\n+ go build -o /dev/null .\n# example.com/hello\n"
            + "<unknown line number>: internal compiler error: panic: unexpected decoding error: EOF"
        #expect(GoBuildLogScanner().scan(repeated).isEmpty)
        let positioned = """
            # example.com/hello
            ./main.go:12:9: internal compiler error: panic: runtime error: invalid memory address
            """
        #expect(GoBuildLogScanner().scan(positioned).isEmpty)
        // Go 1.26+ gives the use site's position to the reader's failure on damaged export data.
        let readerFailure = "# example.com/hello\n./main.go:9:6: internal compiler error: panic: assertion failed"
        #expect(GoBuildLogScanner().scan(readerFailure).map(\.trapClass) == [.cachePollution])
        // A program's own panic (a test, go run) is not the toolchain's.
        let own = """
            panic: runtime error: index out of range [3] with length 3

            goroutine 1 [running]:
            main.main()
            \t/src/app/main.go:9 +0x1d
            """
        #expect(GoBuildLogScanner().scan(own).isEmpty)
    }

    @Test func aSourceRootFindsTheBuildMachinesPathsInTheCheckout() throws {
        let root = Fixtures.path("buildlogs-home")
        let sources = FileSystemGoSources(environment: [:], sourceRoot: root)
        #expect(sources.packageUsesCgo(directory: "/home/runner/work/app/app/src/cgo-only") == true)
        #expect(sources.packageUsesCgo(directory: "src/cgo-only") == true)
        #expect(sources.packageUsesCgo(directory: "/home/runner/work/app/app/src/arch-only/simd") == false)
        #expect(sources.packageUsesCgo(directory: "/home/runner/work/app/app/nowhere") == nil)
        let log = """
            # cwd: /home/runner/work/app/app/src/cgo-only
            GOOS=linux GOARCH=arm64 go build -o /dev/null .
            package example.com/cgo-only: build constraints exclude all Go files in /home/runner/work/app/app/src/cgo-only
            """
        #expect(GoBuildLogScanner(defaultHost: ("linux", "amd64"), sources: sources).scan(log).count == 1)
        let blind = GoBuildLogScanner(defaultHost: ("linux", "amd64")).analyze(log)
        #expect(blind.traps.isEmpty && blind.skipped.count == 1)
    }

    @Test func aValidGOARMForArmIsQuietAndAnInvalidOneTheToolchainRejectsToo() {
        #expect(GoBuildLogScanner().scan("GOOS=linux GOARCH=arm GOARM=6,softfloat go build .").isEmpty)
        #expect(
            GoBuildLogScanner().scan("GOOS=linux GOARCH=arm GOARM=8 go build .\ngo: invalid GOARM: must be 5, 6, 7")
                .isEmpty)
        #expect(
            GoBuildLogScanner().scan("GOOS=linux GOARCH=arm GOARM=8 go build .").map(\.trapClass) == [.goarmIgnored])
    }
}

/// The lines the scanner reads, for tests.
enum BuildLogLinesProbe {
    static func texts(_ log: String) -> [String] {
        GoBuildLogScanner.lineTexts(log)
    }
}
