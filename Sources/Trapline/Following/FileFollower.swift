import Foundation
@_spi(Plumbing) public import TraplineCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Follows the files of one `file` receiver with `follow` (or a `filelog` receiver), as the
/// Collector's `filelog` does: each `poll` hands out the complete records the files gained
/// since the last, and `commit` records how far that was once it was delivered.
///
/// A file is known by its first bytes (its fingerprint, `fingerprint_size`), not its name or
/// inode, so the names rotation gives it do not matter:
/// - renamed and a new file created (`logrotate` `create`): the renamed file keeps its
///   fingerprint and is read on from where it was; the new one is read from its beginning;
/// - copied and truncated (`copytruncate`): the copy has the fingerprint and the position, the
///   truncated original is a new file read from its beginning;
/// - a file no glob matches any more (renamed away, deleted) is read to its end until it stops
///   growing, then released (its descriptor closed, so a deleted file's space is freed).
///
/// With a `file_storage` extension the positions are written to a checkpoint file in its
/// directory after each delivered window; at startup a file whose fingerprint a checkpoint
/// knows resumes there, so a restart, even after SIGKILL, sends again at most the window that
/// was not acknowledged.
// Unchecked: a follower is used by the one replaying thread only; Sendable so the options that
// carry it are.
@_spi(Plumbing) public final class FileFollower: @unchecked Sendable {
    /// The receiver's id, naming its checkpoint file.
    public let receiverID: String
    private let receiver: FileReceiverConfig
    private let settings: FollowSettings
    private let store: CheckpointStore?
    private var files: [FollowedFile] = []
    /// Positions read from the checkpoint file that no file has claimed yet.
    private var remembered: [Checkpoint]
    /// Files found to be copies of a followed file (copytruncate) while the original still
    /// held the bytes, with their size then: skipped until the original is truncated.
    private var copies: [FileIdentity: (of: ObjectIdentifier, size: Int)] = [:]
    private var isFirstScan = true
    private var lastScan: ContinuousClock.Instant?
    /// The kernel's word that the followed directories changed, when it gives one.
    private let watch = DirectoryWatch()
    /// Problems met (a checkpoint file that could not be read or written, a file that could
    /// not be opened), each said once by the caller.
    public private(set) var problems: [String] = []

    /// How long a file no glob matches any more is still read after it last grew.
    static let lostFileGraceSeconds = 1.0

    /// A follower for `receiver` (whose `follow` is set), keeping checkpoints in `storage`.
    /// Reads the checkpoint file; opens nothing else until the first `poll`.
    public init(receiverID: ComponentID, receiver: FileReceiverConfig, storage: FileStorageConfig?) {
        self.receiverID = receiverID.description
        self.receiver = receiver
        settings = receiver.follow ?? FollowSettings()
        store = storage.map {
            CheckpointStore(
                path: $0.directory + "/receiver_" + receiverID.description.replacingOccurrences(of: "/", with: "_"),
                fsync: $0.fsync)
        }
        remembered = []
        if let store {
            switch store.load() {
            case .success(let checkpoints): remembered = checkpoints
            case .failure(let problem): problems.append(problem.text)
            }
        }
    }

    deinit { for file in files { file.close() } }

    /// How many files were followed (each counted once, however it was renamed).
    public private(set) var filesFollowed = 0

    /// The longest record; longer lines are split into several.
    public var maxLogSize: Int { settings.maxLogSize }

    /// The longest wait before a poll may find something new.
    public var pollIntervalSeconds: Double { settings.pollIntervalSeconds }

    /// A descriptor that becomes readable when a followed directory changes (a file written,
    /// a name created or removed): a wait for the next poll may end there. Nil without inotify.
    public var changeDescriptor: Int32? { watch?.descriptor }

    /// The complete records the files gained, up to about `budget` bytes: matches the globs
    /// again when `poll_interval` has passed since the last match or names changed in a
    /// watched directory, then reads each file from where it was. Allocates the pieces (one
    /// buffer each).
    public func poll(budget: Int) -> [FollowedPiece] {
        let now = ContinuousClock.now
        let namesChanged = watch?.drain() ?? false
        if namesChanged
            || lastScan.map({ now - $0 >= .milliseconds(Int64(settings.pollIntervalSeconds * 1000)) }) ?? true
        {
            scan(now: now)
            lastScan = now
        }
        var pieces: [FollowedPiece] = []
        var left = budget
        for file in files where left > 0 {
            if let piece = file.read(budget: left, settings: settings, inputFormat: receiver.inputFormat, now: now) {
                left -= piece.rawCount
                pieces.append(piece)
            }
        }
        // Released: files no glob matches that have been read to their end and stopped growing.
        files.removeAll { file in
            let released =
                file.isLost && (file.isDrained || file.isTruncated)
                && now - file.lastGrowth
                    >= .milliseconds(
                        Int64(Self.lostFileGraceSeconds * 1000))
            if released { file.close() }
            return released
        }
        return pieces
    }

    /// Where every file was read to: what `commit` records once the pieces handed out so far
    /// are delivered. Allocates the list.
    public var positions: [Checkpoint] { files.map(\.checkpoint) }

    /// Records `positions` (taken when the delivered pieces were handed out) as delivered:
    /// writes the checkpoint file, when there is a storage. Allocates the file's text.
    public func commit(_ positions: [Checkpoint]) {
        guard let store else { return }
        // Positions of files not seen since the restart are kept, so a file that comes back
        // (a volume mounted late) still resumes; a bounded number of them.
        let checkpoints = positions + remembered.prefix(max(0, 1024 - positions.count))
        if let problem = store.save(checkpoints), !problems.contains(problem) { problems.append(problem) }
    }

    /// Takes the problems met so far, for the caller to print once.
    public func takeProblems() -> [String] {
        defer { problems.removeAll() }
        return problems
    }

    /// Matches the globs and pairs each file with what is known of it.
    private func scan(now: ContinuousClock.Instant) {
        var claimed: Set<ObjectIdentifier> = []
        var seenIdentities: Set<FileIdentity> = []
        for path in receiver.matchingPaths().paths {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            var info = stat()
            guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size > 0 else {
                Glibc.close(descriptor)  // an empty file has no fingerprint yet: looked at again next scan
                continue
            }
            let head = FollowedFile.readHead(descriptor, count: min(Int(info.st_size), settings.fingerprintSize))
            let identity = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            // The same open file, under this name now (renamed) or still.
            if let file = files.first(where: {
                $0.identity == identity && !claimed.contains(ObjectIdentifier($0))
                    && (head.starts(with: $0.fingerprint) || $0.readsACopy && $0.isCopy(head: head))
            }) {
                Glibc.close(descriptor)
                if file.isTruncated && Int(info.st_size) < file.offset { file.restart() }
                claim(file, path: path, head: head, into: &claimed)
                continue
            }
            // A copy (copytruncate) of a known file: the same first bytes, as many as it has.
            let size = Int(info.st_size)
            seenIdentities.insert(identity)
            if let copy = copies[identity], copy.size != size {
                copies[identity] = nil  // it grew: not a copy after all, looked at afresh
            }
            let original =
                copies[identity].flatMap { copy in files.first { ObjectIdentifier($0) == copy.of } }
                ?? files.first { !$0.fingerprint.isEmpty && $0.identity != identity && $0.isCopy(head: head) }
            if let file = original {
                if claimed.contains(ObjectIdentifier(file)) || !file.isTruncated && file.stillHolds(head) {
                    // The original still holds those bytes: the copy is a duplicate, not read.
                    copies[identity] = (ObjectIdentifier(file), size)
                    Glibc.close(descriptor)
                } else {
                    // The original was truncated: its bytes, and where reading was, are in the copy.
                    copies[identity] = nil
                    file.replaceDescriptor(descriptor, identity: identity)
                    claim(file, path: path, head: head, into: &claimed)
                }
                continue
            }
            let file = FollowedFile(path: path, descriptor: descriptor, identity: identity, head: head, now: now)
            if let index = remembered.firstIndex(where: { !$0.fingerprint.isEmpty && head.starts(with: $0.fingerprint) }
            ) {
                file.resume(at: remembered[index])
                remembered.remove(at: index)
            } else if isFirstScan && !settings.startAtBeginning {
                file.skipToEnd(size: Int(info.st_size))
            }
            files.append(file)
            filesFollowed += 1
            claimed.insert(ObjectIdentifier(file))
        }
        copies = copies.filter { seenIdentities.contains($0.key) }
        if let watch {
            // Where new matches would appear, and where the followed files are written.
            for pattern in receiver.include {
                for directory in DirectoryWatch.directories(for: pattern) { watch.watch(directory: directory) }
            }
        }
        for file in files where !claimed.contains(ObjectIdentifier(file)) && !file.isLost {
            file.isLost = true
            file.lastGrowth = now
        }
        isFirstScan = false
    }

    private func claim(_ file: FollowedFile, path: String, head: [UInt8], into claimed: inout Set<ObjectIdentifier>) {
        file.path = path
        file.isLost = false
        if head.count > file.fingerprint.count && head.starts(with: file.fingerprint) { file.fingerprint = head }
        claimed.insert(ObjectIdentifier(file))
    }
}

/// The complete records one followed file gained: the bytes (UTF-8) and where they are in it.
@_spi(Plumbing) public struct FollowedPiece {
    /// The file's path now.
    public var path: String
    /// The records' bytes, transcoded to UTF-8.
    public var buffer: InputBuffer
    /// The offset of the first byte in the file.
    public var sourceOffset: Int
    /// The line number of the first line.
    public var firstLine: Int
    /// Whether the piece starts in the middle of a line split for its length.
    public var continuesLine: Bool
    /// The file's layout.
    public var format: InputFormat
    /// Whether the file's JSON is JSON lines, told once from its first piece; nil for other
    /// layouts.
    public var jsonLines: Bool?
    /// With `multiline`: each record's bytes in `buffer` and its first line; nil when the
    /// records are the lines (or frames) `FrameReader` cuts.
    public var records: [(range: Range<Int>, line: Int)]?
    /// How many bytes of the file the piece covers.
    public var rawCount: Int

    /// The frames of the piece, for a replay window. Allocates the frames.
    public func frames(options: ReadOptions) -> [FrameEvent] {
        if let records {
            return records.map {
                .frame(
                    Frame(
                        input: buffer, range: $0.range, sourceOffset: sourceOffset + $0.range.lowerBound,
                        payload: .textRecord(firstLine: $0.line)))
            }
        }
        var reader = FrameReader(
            name: path, piece: buffer, format: format, sourceOffset: sourceOffset, firstLine: firstLine,
            continuesLine: continuesLine, jsonLines: jsonLines, options: options)
        var events: [FrameEvent] = []
        // A piece is in memory: reading it cannot fail.
        while let event = try? reader.next() { events.append(event) }
        return events
    }
}

/// A file's device and inode.
struct FileIdentity: Hashable {
    var device: UInt64
    var inode: UInt64
}
