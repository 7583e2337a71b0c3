import Foundation
import Testing
@_spi(Plumbing) import Trapline
import TraplineStages
@_spi(Plumbing) import TraplineTestSupport

/// The `go-crossbuild` rules against the 85 real, labelled Go toolchain logs of
/// `Fixtures/corpus/buildlogs/` (Go 1.21–1.27), with the packages' sources in `Fixtures/buildlogs-home/`.
@Suite struct GoBuildLogScannerTests {
    /// One row of `labels.tsv`.
    struct Label {
        var lines: Set<Int>
        var trapClass: String
    }

    static let labels: [String: [Label]] = {
        guard let text = try? String(contentsOfFile: Fixtures.path("corpus/buildlogs/labels.tsv"), encoding: .utf8)
        else { return [:] }
        var labels: [String: [Label]] = [:]
        for row in text.split(separator: "\n").dropFirst() {
            let fields = row.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 3 else { continue }
            labels[String(fields[0]), default: []].append(
                Label(lines: lineSet(fields[1]), trapClass: String(fields[2])))
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

    @Test func everyLabelledLogIsInTheFixtures() {
        #expect(Self.logs.count == 85)
        #expect(Set(Self.labels.keys) == Set(Self.logs.map { ($0 as NSString).lastPathComponent }))
    }

    @Test(arguments: logs)
    func reportsExactlyTheLabelledClassesAndNothingOnANearMiss(_ path: String) throws {
        let name = (path as NSString).lastPathComponent
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

    @Test func labelledLinesAreFoundAsEvidence() throws {
        // Beyond the class set: most labelled lines are named by a trap, line for line.
        var labelled = 0
        var found = 0
        for path in Self.logs {
            let name = (path as NSString).lastPathComponent
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

    @Test func aValidGOARMForArmIsQuietAndAnInvalidOneTheToolchainRejectsToo() {
        #expect(GoBuildLogScanner().scan("GOOS=linux GOARCH=arm GOARM=6,softfloat go build .").isEmpty)
        #expect(
            GoBuildLogScanner().scan("GOOS=linux GOARCH=arm GOARM=8 go build .\ngo: invalid GOARM: must be 5, 6, 7")
                .isEmpty)
        #expect(
            GoBuildLogScanner().scan("GOOS=linux GOARCH=arm GOARM=8 go build .").map(\.trapClass) == [.goarmIgnored])
    }
}
