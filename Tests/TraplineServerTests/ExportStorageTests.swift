import Foundation
import Testing
import TraplineCore
import TraplineTestSupport

@_spi(Plumbing) @testable import TraplineServer

/// The exporters' write-ahead log: what is kept and not settled comes back, in order; a cut tail
/// (a write a kill interrupted) is dropped and the log goes on; settled entries go away.
@Suite struct ExportStorageTests {
    @Test func unsettledRequestsComeBackInOrderAndACutTailIsDropped() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var (storage, restored) = try ExportStorage.open(
            directory: directory.path, exporter: "otlphttp/a", maxBytes: 1 << 20, fsync: false)
        #expect(restored.isEmpty)
        var sequences: [UInt64] = []
        for index in 0..<5 {
            sequences.append(
                try storage.append(
                    signal: index % 2 == 0 ? .traces : .logs, records: index + 1, metadata: "tenant-\(index)",
                    body: Array(repeating: UInt8(index), count: 100 * (index + 1))))
        }
        storage.settle([sequences[1], sequences[3]])
        #expect(storage.unsettled.requests == 3)
        let path = storage.path
        // A kill in the middle of the next entry: half of it is on disk.
        _ = try storage.append(signal: .metrics, records: 9, metadata: "", body: Array(repeating: 7, count: 1000))
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        #expect(truncate(path, off_t(size - 500)) == 0)

        (storage, restored) = try ExportStorage.open(
            directory: directory.path, exporter: "otlphttp/a", maxBytes: 1 << 20, fsync: false)
        #expect(restored.map(\.sequence) == [sequences[0], sequences[2], sequences[4]])
        #expect(restored.map(\.records) == [1, 3, 5])
        #expect(restored.map(\.signal) == [.traces, .traces, .traces])
        #expect(restored.map(\.metadata) == ["tenant-0", "tenant-2", "tenant-4"])
        #expect(restored[2].body == Array(repeating: 4, count: 500))
        #expect(storage.replayedRecords == 9)
        // The log goes on after the cut: a new entry, then everything settled empties the file.
        let next = try storage.append(signal: .logs, records: 1, metadata: "", body: [1, 2, 3])
        #expect(next > sequences[4])
        storage.settle(restored.map(\.sequence) + [next])
        #expect(storage.unsettled.requests == 0)
        #expect((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) == 0)
        (storage, restored) = try ExportStorage.open(
            directory: directory.path, exporter: "otlphttp/a", maxBytes: 1 << 20, fsync: true)
        #expect(restored.isEmpty)
    }

    @Test func roomIsCountedInBytesOfUnsettledRequests() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (storage, _) = try ExportStorage.open(
            directory: directory.path, exporter: "otlp", maxBytes: 1000, fsync: false)
        let first = try storage.append(signal: .traces, records: 1, metadata: "", body: Array(repeating: 0, count: 600))
        #expect(storage.hasRoom())
        _ = try storage.append(signal: .traces, records: 1, metadata: "", body: Array(repeating: 0, count: 600))
        #expect(!storage.hasRoom())
        storage.settle([first])
        #expect(storage.hasRoom())
    }

    /// A log mostly of settled entries is rewritten with the unsettled ones, which still come back.
    @Test func aLogOfMostlySettledEntriesIsRewritten() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var (storage, _) = try ExportStorage.open(
            directory: directory.path, exporter: "otlp", maxBytes: 64 << 20, fsync: false)
        var sequences: [UInt64] = []
        for index in 0..<20 {
            sequences.append(
                try storage.append(
                    signal: .logs, records: 1, metadata: "", body: Array(repeating: UInt8(index), count: 1 << 20)))
        }
        storage.settle(Array(sequences.dropLast(2)))
        let size = try FileManager.default.attributesOfItem(atPath: storage.path)[.size] as? Int ?? 0
        #expect(size < 3 << 20, "\(size) bytes after settling 18 of 20 entries of 1 MiB")
        let kept = try storage.append(signal: .logs, records: 1, metadata: "", body: [9])
        var restored: [ExportStorage.Entry]
        (storage, restored) = try ExportStorage.open(
            directory: directory.path, exporter: "otlp", maxBytes: 64 << 20, fsync: false)
        #expect(restored.map(\.sequence) == Array(sequences.suffix(2)) + [kept])
        #expect(restored[1].body == Array(repeating: 19, count: 1 << 20))
    }

    @Test func aDirectoryThatCannotBeWrittenIsAnIOFailure() throws {
        #expect(throws: IOFailure.self) {
            _ = try ExportStorage.open(directory: "/nonexistent/trapline", exporter: "otlp", maxBytes: 1, fsync: false)
        }
    }
}
