import Foundation
import Testing
import TraplineCore
import TraplineRules
import TraplineStages
import TraplineTestSupport

@_spi(Plumbing) @testable import Trapline

/// Following files as the Collector's `filelog` does (issue 24): what each poll hands out, in
/// one process, with the file system changed by hand between polls.
@Suite struct FileFollowerTests {
    /// A follower of `directory/pattern` and the log records its polls hand out, as bodies.
    struct Harness {
        let directory: String
        var follower: FileFollower

        init(
            directory: String, pattern: String = "app.log*", configure: (inout FollowSettings) -> Void = { _ in },
            storage: Bool = false
        ) {
            self.directory = directory
            var receiver = FileReceiverConfig()
            receiver.include = [directory + "/" + pattern]
            var settings = FollowSettings()
            settings.startAtBeginning = true
            settings.pollIntervalSeconds = 0.001
            configure(&settings)
            receiver.follow = settings
            var store = FileStorageConfig()
            store.directory = directory
            follower = FileFollower(
                receiverID: ComponentID(parsing: "filelog")!, receiver: receiver, storage: storage ? store : nil)
        }

        /// The bodies of the records the next poll hands out (after the poll interval).
        func poll() -> [String] {
            usleep(2000)
            var bodies: [String] = []
            for piece in follower.poll(budget: 1 << 20) {
                var processor = FrameProcessor(
                    encodings: FrameEncodings(proto: false, json: true), observedTime: 1, chain: StageChain(),
                    spanMetrics: nil,
                    signals: [.logs])
                defer { processor.release() }
                for event in piece.frames(options: ReadOptions()) {
                    var outcome = FrameOutcome()
                    processor.process(event, path: piece.path, into: &outcome)
                    let json = String(decoding: outcome.json, as: UTF8.self)
                    for match in json.split(separator: "\"stringValue\":\"").dropFirst() {
                        bodies.append(
                            String(match.prefix { $0 != "\"" }).replacingOccurrences(of: "\\n", with: "\n")
                                .replacingOccurrences(of: "\\t", with: "\t"))
                    }
                }
            }
            follower.commit(follower.positions)
            return bodies.filter { !$0.hasPrefix(directory) }
        }

        func append(_ text: String, to name: String = "app.log") {
            let handle = FileHandle(forWritingAtPath: directory + "/" + name)
            if let handle {
                handle.seekToEndOfFile()
                handle.write(Data(text.utf8))
                handle.closeFile()
            } else {
                _ = FileManager.default.createFile(atPath: directory + "/" + name, contents: Data(text.utf8))
            }
        }
    }

    @Test func appendedLinesAreHandedOutOnceAndAPartialLineWaits() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let harness = Harness(directory: directory) { $0.forceFlushSeconds = 60 }
        harness.append("one\ntwo\n")
        #expect(harness.poll() == ["one", "two"])
        #expect(harness.poll() == [])
        harness.append("three\nfou")
        #expect(harness.poll() == ["three"])
        harness.append("r\n")
        #expect(harness.poll() == ["four"])
    }

    /// Line numbers continue across polls as the text decoder counts them (a lone CR ends a
    /// line too).
    @Test func lineNumbersContinueAcrossPolls() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let harness = Harness(directory: directory) { $0.forceFlushSeconds = 60 }
        harness.append("one\rtwo\r\nthree\n")
        #expect(harness.poll() == ["one", "two", "three"])
        harness.append("four\n")
        _ = harness.poll()
        let line = harness.follower.positions.first?.line
        #expect(line == 5, "the line after 'four' is 5, found \(String(describing: line))")
    }

    @Test func aPartialLastLineGoesOnAfterTheForceFlushPeriod() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let harness = Harness(directory: directory) { $0.forceFlushSeconds = 0.05 }
        harness.append("no end")
        #expect(harness.poll() == [])
        usleep(100_000)
        #expect(harness.poll() == ["no end"])
    }

    @Test func startAtEndSkipsWhatIsThereAndNewFilesAreReadWhole() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let harness = Harness(directory: directory) { $0.startAtBeginning = false }
        harness.append("old\n")
        #expect(harness.poll() == [])
        harness.append("new\n")
        harness.append("first\n", to: "app.log.2")
        #expect(harness.poll().sorted() == ["first", "new"])
    }

    /// logrotate `create`: the file is renamed (and read on under its new name from where it
    /// was) and a new one created (read from its beginning).
    @Test func renameAndCreateLosesAndRepeatsNothing() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let harness = Harness(directory: directory)
        harness.append("a\nb\n")
        #expect(harness.poll() == ["a", "b"])
        harness.append("c\n")
        try FileManager.default.moveItem(atPath: directory + "/app.log", toPath: directory + "/app.log.1")
        harness.append("d\n", to: "app.log.1")  // the writer has not reopened yet
        harness.append("e\n")
        #expect(harness.poll().sorted() == ["c", "d", "e"])
        #expect(harness.poll() == [])
    }

    /// logrotate `copytruncate`: the copy carries the fingerprint and the position; the
    /// truncated original is new. A scan between the copy and the truncation skips the copy.
    @Test func copyTruncateLosesAndRepeatsNothing() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let harness = Harness(directory: directory)
        harness.append("a\nb\n")
        #expect(harness.poll() == ["a", "b"])
        harness.append("c\n")
        try FileManager.default.copyItem(atPath: directory + "/app.log", toPath: directory + "/app.log.1")
        #expect(harness.poll() == ["c"])  // the copy is a duplicate while the original holds the bytes
        harness.append("d\n")  // after the copy, before the truncation: read from the original
        #expect(harness.poll() == ["d"])
        truncate(directory + "/app.log", 0)
        harness.append("e\n")
        #expect(harness.poll() == ["e"])
        #expect(harness.poll() == [])
    }

    @Test func aDeletedFileIsReleased() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let harness = Harness(directory: directory)
        harness.append("a\n")
        #expect(harness.poll() == ["a"])
        func openDescriptors() -> Int {
            ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).filter {
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0))?.hasPrefix(
                    directory) == true
            }.count
        }
        #expect(openDescriptors() == 1)
        unlink(directory + "/app.log")
        #expect(harness.poll() == [])
        usleep(UInt32(FileFollower.lostFileGraceSeconds * 1_100_000))
        _ = harness.poll()
        #expect(openDescriptors() == 0)
    }

    /// A Go panic with its goroutine stack is one record with `line_start_pattern`.
    @Test func multilineJoinsAGoPanicWithItsStack() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let harness = Harness(directory: directory) {
            $0.multiline = MultilineRule(marksStart: true, regex: try! ByteRegex(#"^(\d{4}/\d\d/\d\d |panic: )"#))
            $0.forceFlushSeconds = 60
        }
        let panic = """
            panic: runtime error: index out of range [3] with length 3

            goroutine 1 [running]:
            main.main()
            \t/app/main.go:12 +0x1d
            exit status 2

            """
        harness.append("2026/12/06 10:00:00 starting\n" + panic + "2026/12/06 10:00:01 restarted\n")
        #expect(harness.poll() == ["2026/12/06 10:00:00 starting", String(panic.dropLast())])
        harness.append("2026/12/06 10:00:02 next\n")
        #expect(harness.poll() == ["2026/12/06 10:00:01 restarted"])
    }

    @Test func lineEndPatternClosesRecords() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let harness = Harness(directory: directory) {
            $0.multiline = MultilineRule(marksStart: false, regex: try! ByteRegex(#";$"#))
            $0.forceFlushSeconds = 60
        }
        harness.append("a\nb;\nc;\nd\n")
        #expect(harness.poll() == ["a\nb;", "c;"])
    }

    @Test(arguments: [FollowedEncoding.utf16le, .utf16be, .latin1])
    func otherEncodingsBecomeUTF8(encoding: FollowedEncoding) throws {
        let directory = try Fixtures.temporaryDirectory().path
        let harness = Harness(directory: directory) { $0.encoding = encoding }
        let text = "grüße 😀\nzwei\n"
        let bytes: [UInt8] =
            switch encoding {
            case .utf16le: [0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
            case .utf16be: [0xFE, 0xFF] + text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
            default: Array(text.replacingOccurrences(of: " 😀", with: "").data(using: .isoLatin1)!)
            }
        _ = FileManager.default.createFile(atPath: directory + "/app.log", contents: Data(bytes))
        let expected = encoding == .latin1 ? ["grüße", "zwei"] : ["grüße 😀", "zwei"]
        #expect(harness.poll() == expected)
    }

    @Test func aLineLongerThanMaxLogSizeIsSplitNotDropped() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let harness = Harness(directory: directory) {
            $0.maxLogSize = 16
            $0.forceFlushSeconds = 60
        }
        harness.append(String(repeating: "x", count: 40))
        let pieces = harness.poll() + harness.poll() + harness.poll()
        #expect(pieces.joined() == String(repeating: "x", count: 32))
        harness.append("y\n")
        #expect((pieces + harness.poll()).joined() == String(repeating: "x", count: 40) + "y")
    }

    /// A new follower over the same storage resumes where the committed checkpoint was, even
    /// when the file was renamed meanwhile.
    @Test func checkpointsResumeAfterARestart() throws {
        let directory = try Fixtures.temporaryDirectory().path
        do {
            let harness = Harness(directory: directory, storage: true)
            harness.append("a\nb\n")
            #expect(harness.poll() == ["a", "b"])
        }
        harness2: do {
            try FileManager.default.moveItem(atPath: directory + "/app.log", toPath: directory + "/app.log.1")
            let harness = Harness(directory: directory, storage: true)
            harness.append("c\n", to: "app.log.1")
            #expect(harness.poll() == ["c"])
            break harness2
        }
        #expect(FileManager.default.fileExists(atPath: directory + "/receiver_filelog"))
    }

    /// The change descriptor becomes readable when a file in a watched directory is created or
    /// written, including a directory made after the follower started, and a poll reads it
    /// empty again (a wait for the next poll ends on a write, not at `poll_interval`).
    @Test func writesMakeTheChangeDescriptorReadable() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let harness = Harness(directory: directory, pattern: "pods/*/app.log") { $0.pollIntervalSeconds = 60 }
        let descriptor = try #require(harness.follower.changeDescriptor)
        // Waits up to a second for readable; not readable is told after 100 ms.
        func isReadable(milliseconds: Int32 = 1000) -> Bool {
            var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            return poll(&ready, 1, milliseconds) == 1
        }
        #expect(harness.poll().isEmpty)
        #expect(!isReadable(milliseconds: 100))
        try FileManager.default.createDirectory(atPath: directory + "/pods/web-1", withIntermediateDirectories: true)
        #expect(isReadable())
        #expect(harness.poll().isEmpty)  // a scan for the new directory, which is watched from now
        harness.append("a\n", to: "pods/web-1/app.log")
        #expect(isReadable())
        #expect(harness.poll() == ["a"])
        #expect(!isReadable(milliseconds: 100))
        harness.append("b\n", to: "pods/web-1/app.log")
        #expect(isReadable())
        #expect(harness.poll() == ["b"])
    }

    /// The directories watched for a glob: its fixed part (or the nearest ancestor made so
    /// far) and each directory its wildcard components match.
    @Test func watchedDirectoriesFollowTheGlob() throws {
        let directory = try Fixtures.temporaryDirectory().path
        #expect(DirectoryWatch.directories(for: directory + "/logs/*.log") == [directory])
        try FileManager.default.createDirectory(atPath: directory + "/logs/a/x", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/logs/b", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: directory + "/logs/file", contents: Data())
        #expect(DirectoryWatch.directories(for: directory + "/logs/*.log") == [directory + "/logs"])
        #expect(
            DirectoryWatch.directories(for: directory + "/logs/*/*/app.log")
                == [directory + "/logs", directory + "/logs/a", directory + "/logs/b", directory + "/logs/a/x"])
        #expect(DirectoryWatch.directories(for: "/*.log") == ["/"])
    }
}
