import CZlib
import Foundation
import Synchronization
@_spi(Plumbing) import TraplineCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// An exporter's queue on disk (`sending_queue.storage`): a write-ahead log of the requests it
/// took and of the answers that settled them, replayed at start, so a request acknowledged to its
/// sender survives a kill of Trapline and an outage of the next hop.
///
/// One file per exporter, `<directory>/exporter_<id>.wal`, appended to: an entry is `T`, its kind
/// (1 a request, 2 its settlement), its payload's length and CRC-32, then the payload (a request:
/// sequence number, signal, records, batch key, body; a settlement: the sequence number). At
/// start the log is read up to the first entry that is cut off or does not match its CRC (a write
/// a kill interrupted: the rest is cut away), and the requests without a settlement are queued
/// again, in order. When nothing is left unsettled the file is emptied; when it holds mostly
/// settled entries it is rewritten with the rest.
///
/// Durability: each entry is written with one `write` before the request is acknowledged, so it
/// is in the operating system's cache and survives a kill of Trapline; with `fsync` (the
/// `file_storage` extension's setting) it is also flushed to the disk first, and so survives a
/// crash of the machine, at the cost of a disk flush per request.
final class ExportStorage: Sendable {
    /// A request kept in the log.
    struct Entry: Sendable {
        var sequence: UInt64
        var signal: Signal
        var records: Int
        var metadata: String
        var body: [UInt8]
    }

    let path: String
    let maxBytes: Int
    let fsync: Bool
    private struct State {
        var descriptor: Int32 = -1
        var fileBytes = 0
        /// Bytes of the unsettled requests' entries, and their count.
        var liveBytes: [UInt64: Int] = [:]
        var liveTotal = 0
        var nextSequence: UInt64 = 1
        var replayed = 0
        var failures = 0
    }
    private let state = Mutex(State())

    /// Opens (or creates) the log and reads back what it holds.
    ///
    /// - Parameters:
    ///   - directory: the `file_storage` extension's directory.
    ///   - exporter: the exporter id (the file's name).
    ///   - maxBytes: the most bytes of unsettled requests kept; past it `hasRoom` says no.
    ///   - fsync: flush each entry to the disk before it counts as kept.
    /// - Returns: the log and the unsettled requests, oldest first.
    /// - Throws: `IOFailure` when the file cannot be opened or read.
    static func open(directory: String, exporter: String, maxBytes: Int, fsync: Bool) throws(IOFailure) -> (
        ExportStorage, [Entry]
    ) {
        let name = exporter.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }
        let path = directory + "/exporter_" + String(name) + ".wal"
        let storage = ExportStorage(path: path, maxBytes: maxBytes, fsync: fsync)
        let entries = try storage.load()
        return (storage, entries)
    }

    private init(path: String, maxBytes: Int, fsync: Bool) {
        self.path = path
        self.maxBytes = maxBytes
        self.fsync = fsync
    }

    deinit {
        state.withLock { if $0.descriptor >= 0 { close($0.descriptor) } }
    }

    private func load() throws(IOFailure) -> [Entry] {
        let descriptor = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw IOFailure(path: path, operation: "open", errorNumber: errno) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                if count < 0 {
                    let number = errno
                    close(descriptor)
                    throw IOFailure(path: path, operation: "read", errorNumber: number)
                }
                break
            }
            bytes += chunk[0..<count]
        }
        var requests: [UInt64: (Entry, Int)] = [:]
        var settled = Set<UInt64>()
        var position = 0
        var maxSequence: UInt64 = 0
        while let (kind, payload, next) = Self.entry(in: bytes, at: position) {
            var reader = PayloadReader(bytes: bytes, position: payload.lowerBound, end: payload.upperBound)
            if kind == 1, let entry = reader.request() {
                requests[entry.sequence] = (entry, next - position)
                maxSequence = max(maxSequence, entry.sequence)
            } else if kind == 2, let sequence = reader.uint64() {
                settled.insert(sequence)
            }
            position = next
        }
        // A cut or damaged tail (a write a kill interrupted) is cut away.
        if position < bytes.count { _ = ftruncate(descriptor, off_t(position)) }
        _ = lseek(descriptor, off_t(position), SEEK_SET)
        let live = requests.filter { !settled.contains($0.key) }.sorted { $0.key < $1.key }
        state.withLock { state in
            state.descriptor = descriptor
            state.fileBytes = position
            state.nextSequence = maxSequence + 1
            for (sequence, (_, size)) in live {
                state.liveBytes[sequence] = size
                state.liveTotal += size
            }
            state.replayed = live.reduce(0) { $0 + $1.value.0.records }
        }
        return live.map(\.value.0)
    }

    /// Whether a request of about `bytes` more fits under `maxBytes`. Allocates nothing.
    func hasRoom(for bytes: Int = 0) -> Bool { state.withLock { $0.liveTotal + bytes <= maxBytes } }

    /// Keeps a request: written (and flushed, with `fsync`) before it returns.
    ///
    /// - Returns: its sequence number, for `settle`.
    /// - Throws: `IOFailure` when it cannot be written (the disk is full): the request is not kept.
    func append(signal: Signal, records: Int, metadata: String, body: [UInt8]) throws(IOFailure) -> UInt64 {
        try state.withLock { state throws(IOFailure) in
            let sequence = state.nextSequence
            var payload: [UInt8] = []
            payload.reserveCapacity(body.count + metadata.utf8.count + 24)
            Self.put(sequence, into: &payload)
            payload.append(Self.code(of: signal))
            Self.put(UInt32(truncatingIfNeeded: records), into: &payload)
            Self.put(UInt32(truncatingIfNeeded: metadata.utf8.count), into: &payload)
            payload += metadata.utf8
            payload += body
            let size = try write(kind: 1, payload, &state)
            state.nextSequence += 1
            state.liveBytes[sequence] = size
            state.liveTotal += size
            return sequence
        }
    }

    /// Records that requests were answered (sent, refused, or failed after every retry): they
    /// are not sent again after a restart. A settlement that cannot be written is counted; the
    /// request is then sent again after a restart (a duplicate, never a loss).
    func settle(_ sequences: [UInt64]) {
        guard !sequences.isEmpty else { return }
        state.withLock { state in
            for sequence in sequences {
                var payload: [UInt8] = []
                Self.put(sequence, into: &payload)
                do throws(IOFailure) { _ = try write(kind: 2, payload, &state) } catch { state.failures += 1 }
                if let size = state.liveBytes.removeValue(forKey: sequence) { state.liveTotal -= size }
            }
            compactIfWorthIt(&state)
        }
    }

    /// Requests kept and not settled, and their bytes.
    var unsettled: (requests: Int, bytes: Int) { state.withLock { ($0.liveBytes.count, $0.liveTotal) } }
    /// Records read back at start.
    var replayedRecords: Int { state.withLock { $0.replayed } }

    private func write(kind: UInt8, _ payload: [UInt8], _ state: inout State) throws(IOFailure) -> Int {
        var entry: [UInt8] = [UInt8(ascii: "T"), kind]
        Self.put(UInt32(payload.count), into: &entry)
        let checksum = payload.withUnsafeBytes {
            UInt32(truncatingIfNeeded: crc32(0, $0.bindMemory(to: Bytef.self).baseAddress, uInt($0.count)))
        }
        Self.put(checksum, into: &entry)
        entry += payload
        var written = 0
        while written < entry.count {
            let count = entry.withUnsafeBytes {
                pwrite(
                    state.descriptor, $0.baseAddress! + written, $0.count - written, off_t(state.fileBytes + written))
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let number = count == 0 ? ENOSPC : errno
                // Whatever part was written is cut again, so the log stays whole.
                _ = ftruncate(state.descriptor, off_t(state.fileBytes))
                throw IOFailure(path: path, operation: "write", errorNumber: number)
            }
            written += count
        }
        if fsync && fdatasync(state.descriptor) != 0 {
            let number = errno
            _ = ftruncate(state.descriptor, off_t(state.fileBytes))
            throw IOFailure(path: path, operation: "fsync", errorNumber: number)
        }
        state.fileBytes += entry.count
        return entry.count
    }

    /// Empties the file when nothing is unsettled; rewrites it with the unsettled requests when
    /// they are under a quarter of it (and it is over 16 MiB).
    private func compactIfWorthIt(_ state: inout State) {
        if state.liveBytes.isEmpty {
            if state.fileBytes > 0 && ftruncate(state.descriptor, 0) == 0 { state.fileBytes = 0 }
            return
        }
        guard state.fileBytes > 16 << 20, state.liveTotal * 4 < state.fileBytes else { return }
        // Read the live entries back from the file and write them to a new one, renamed over.
        var bytes = [UInt8](repeating: 0, count: state.fileBytes)
        let count = bytes.withUnsafeMutableBytes { pread(state.descriptor, $0.baseAddress, $0.count, 0) }
        guard count == state.fileBytes else { return }
        var kept: [UInt8] = []
        var position = 0
        while let (kind, payload, next) = Self.entry(in: bytes, at: position) {
            var reader = PayloadReader(bytes: bytes, position: payload.lowerBound, end: payload.upperBound)
            if kind == 1, let sequence = reader.uint64(), state.liveBytes[sequence] != nil {
                kept += bytes[position..<next]
            }
            position = next
        }
        let temporary = path + ".compact"
        let descriptor = Glibc.open(temporary, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return }
        let written = kept.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard written == kept.count, fdatasync(descriptor) == 0, rename(temporary, path) == 0 else {
            close(descriptor)
            unlink(temporary)
            return
        }
        close(state.descriptor)
        state.descriptor = descriptor
        state.fileBytes = kept.count
        _ = lseek(descriptor, off_t(kept.count), SEEK_SET)
    }

    /// The entry at `position`: its kind, payload range and where the next begins; nil at the
    /// end, or where an entry is cut off or damaged.
    private static func entry(in bytes: [UInt8], at position: Int) -> (UInt8, Range<Int>, Int)? {
        guard position + 10 <= bytes.count, bytes[position] == UInt8(ascii: "T") else { return nil }
        let kind = bytes[position + 1]
        let length = Int(uint32(bytes, position + 2))
        let checksum = uint32(bytes, position + 6)
        let start = position + 10
        guard length <= bytes.count - start else { return nil }
        let actual = bytes.withUnsafeBytes {
            UInt32(truncatingIfNeeded: crc32(0, $0.bindMemory(to: Bytef.self).baseAddress! + start, uInt(length)))
        }
        guard actual == checksum, kind == 1 || kind == 2 else { return nil }
        return (kind, start..<(start + length), start + length)
    }

    private static func uint32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * $1) }
    }

    private static func put(_ value: UInt32, into bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    private static func put(_ value: UInt64, into bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    private static func code(of signal: Signal) -> UInt8 {
        switch signal {
        case .traces: 1
        case .logs: 2
        case .metrics: 3
        }
    }

    /// Reads a payload's fields.
    private struct PayloadReader {
        let bytes: [UInt8]
        var position: Int
        let end: Int

        mutating func uint64() -> UInt64? {
            guard position + 8 <= end else { return nil }
            defer { position += 8 }
            return (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[position + $1]) << (8 * $1) }
        }

        mutating func uint32() -> UInt32? {
            guard position + 4 <= end else { return nil }
            defer { position += 4 }
            return ExportStorage.uint32(bytes, position)
        }

        mutating func request() -> Entry? {
            guard let sequence = uint64(), position < end else { return nil }
            let code = bytes[position]
            position += 1
            let signal: Signal
            switch code {
            case 1: signal = .traces
            case 2: signal = .logs
            case 3: signal = .metrics
            default: return nil
            }
            guard let records = uint32(), let length = uint32(), Int(length) <= end - position else { return nil }
            let metadata = String(decoding: bytes[position..<(position + Int(length))], as: UTF8.self)
            position += Int(length)
            let body = Array(bytes[position..<end])
            position = end
            return Entry(sequence: sequence, signal: signal, records: Int(records), metadata: metadata, body: body)
        }
    }
}
