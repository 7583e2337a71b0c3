@_spi(Plumbing) import TraplineCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// One file a `FileFollower` reads: its open descriptor (kept across renames), its
/// fingerprint and how far it was read.
final class FollowedFile {
    /// The buffers files are read into, reused once the records read into them are written
    /// (a window's worth is 8 MiB: a new one each window cost page faults and zeroing). Two
    /// windows are in flight at most, and a few pieces beside them.
    static let readBuffers = InputBufferPool(capacity: 4)

    var path: String
    private(set) var descriptor: Int32
    private(set) var identity: FileIdentity
    /// The file's first bytes (up to `fingerprint_size`), grown as the file grows.
    var fingerprint: [UInt8]
    /// Bytes of the file handed out.
    private(set) var offset = 0
    /// The number of the line at `offset`.
    private(set) var line = 1
    /// Whether `offset` is inside a line split for its length.
    private var continuesLine = false
    /// The layout, once told from the first bytes.
    private var format: InputFormat?
    /// For JSON: whether it is JSON lines, told from the first piece (each piece's reader
    /// would scan its first 64 KiB to tell it again).
    private var jsonLines: Bool?
    /// The size at the last read, and when it last changed.
    private var lastSize = 0
    var lastGrowth: ContinuousClock.Instant
    /// No glob matches the file any more: it is read until it stops growing, then released.
    var isLost = false
    /// Whether the last read reached the end of the file.
    private(set) var isDrained = false
    /// Whether the file was found shorter than what was read of it.
    private(set) var isTruncated = false
    /// Whether the descriptor is a copy taken over from a truncated original: it may end
    /// before what was read of the original, and is not truncated for that.
    private(set) var readsACopy = false

    init(path: String, descriptor: Int32, identity: FileIdentity, head: [UInt8], now: ContinuousClock.Instant) {
        self.path = path
        self.descriptor = descriptor
        self.identity = identity
        fingerprint = head
        lastGrowth = now
    }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    /// Reads on from another descriptor holding the same bytes (the copy `copytruncate` made).
    func replaceDescriptor(_ descriptor: Int32, identity: FileIdentity) {
        close()
        self.descriptor = descriptor
        self.identity = identity
        isTruncated = false
        readsACopy = true
    }

    /// The file was truncated and written again from the same first bytes: read it again from
    /// its beginning.
    func restart() {
        offset = 0
        line = 1
        continuesLine = false
        isTruncated = false
    }

    /// Where a checkpoint says reading was.
    func resume(at checkpoint: Checkpoint) {
        offset = checkpoint.offset
        line = checkpoint.line
        continuesLine = checkpoint.continuesLine
    }

    /// Starts at the end (`start_at: end`), counting the lines before it so line numbers stay
    /// those of the file.
    func skipToEnd(size: Int) {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var position = 0
        var lines = 1
        while position < size {
            let got = buffer.withUnsafeMutableBytes {
                pread(descriptor, $0.baseAddress, min($0.count, size - position), off_t(position))
            }
            guard got > 0 else { break }
            // Numbered as the text decoder numbers lines (start_at: end is for logs).
            lines += buffer.withUnsafeBytes {
                RecordBoundaries.lineBreakCount(UnsafeRawBufferPointer(rebasing: $0[0..<got]), format: .text)
            }
            position += got
        }
        offset = position
        line = lines
        lastSize = position
    }

    /// What a checkpoint keeps of the file.
    var checkpoint: Checkpoint {
        Checkpoint(path: path, fingerprint: fingerprint, offset: offset, line: line, continuesLine: continuesLine)
    }

    /// Whether a file starting with `head` could be a copy of this one: one of the two
    /// starts with the other (the copy was made before or after this file grew).
    func isCopy(head: [UInt8]) -> Bool {
        head.starts(with: fingerprint) || fingerprint.starts(with: head)
    }

    /// Whether the open file still starts with `head`.
    func stillHolds(_ head: [UInt8]) -> Bool {
        Self.readHead(descriptor, count: head.count) == head
    }

    static func readHead(_ descriptor: Int32, count: Int) -> [UInt8] {
        var head = [UInt8](repeating: 0, count: count)
        let got = head.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, 0) }
        head.removeLast(count - max(0, got))
        return head
    }

    /// The complete records after `offset`, up to about `budget` bytes of the file; nil when
    /// there is none yet.
    func read(budget: Int, settings: FollowSettings, inputFormat: InputFormat, now: ContinuousClock.Instant)
        -> FollowedPiece?
    {
        guard descriptor >= 0 else { return nil }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        let size = Int(info.st_size)
        if !isTruncated && !readsACopy
            && (size < offset || size != lastSize && !stillHolds(fingerprint))
        {
            // Shorter than what was read, or no longer starting with its fingerprint (truncated
            // and written again past where reading was): copytruncate. Nothing more is read from
            // it until a scan tells where its bytes went: a copy with its fingerprint takes over,
            // and the truncated file is a new one read from its beginning.
            isTruncated = true
        }
        if size != lastSize {
            lastGrowth = now
            lastSize = size
        }
        isDrained = size == offset
        guard !isTruncated, size > offset else { return nil }
        let available =
            format == .otlpProto ? size - offset : min(size - offset, max(budget, settings.maxLogSize))
        // Read straight into the buffer the records are handed out in (no copy for UTF-8 lines).
        let storage = Self.readBuffers.take(byteCount: max(available, 1))
        let got = pread(descriptor, storage.baseAddress, available, off_t(offset))
        guard got > 0 else {
            Self.readBuffers.giveBack(storage)
            return nil
        }
        let raw = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(storage)[0..<got])
        let atEnd = offset + got == size
        if format == nil { format = detectFormat(settings: settings, raw: raw) ?? (atEnd ? .text : nil) }
        let quiet = atEnd && now - lastGrowth >= .milliseconds(Int64(settings.forceFlushSeconds * 1000))
        var cut = RecordBoundaries.lastEnd(
            of: raw, format: format ?? .text, encoding: settings.encoding, multiline: settings.multiline, flush: quiet)
        var splitsLine = false
        if cut == 0 {
            // No record is complete: a line longer than max_log_size is split; anything else waits.
            guard raw.count >= settings.maxLogSize, format == .text || format == .otlpJSON else {
                Self.readBuffers.giveBack(storage)
                return nil
            }
            cut = RecordBoundaries.splitPoint(raw, limit: settings.maxLogSize, encoding: settings.encoding)
            splitsLine = true
        }
        let piece = RecordBoundaries.piece(
            storage, cut: cut, path: path, offset: offset, line: line, continuesLine: continuesLine,
            format: format ?? .text, settings: settings, skipsByteOrderMark: offset == 0)
        offset += cut
        line += piece.lineBreaks
        continuesLine = splitsLine
        isDrained = offset == size
        var handedOut = piece.piece
        if handedOut.format == .otlpJSON && handedOut.records == nil {
            if jsonLines == nil {
                jsonLines = FrameReader.isJSONLines(
                    UnsafeRawBufferPointer(
                        rebasing: handedOut.buffer.bytes.prefix(FormatDetector.preferredPrefixLength)))
            }
            handedOut.jsonLines = jsonLines
        }
        return handedOut
    }

    /// The layout: `input_format` when given, else told from the file's first bytes.
    private func detectFormat(settings: FollowSettings, raw: UnsafeRawBufferPointer) -> InputFormat? {
        if settings.encoding != .utf8 { return .text }
        let head =
            offset == 0
            ? Array(raw.prefix(FormatDetector.preferredPrefixLength))
            : Self.readHead(descriptor, count: FormatDetector.preferredPrefixLength)
        let detected = head.withUnsafeBytes { FormatDetector.detect($0, isComplete: false) }
        // A few bytes of text can read as a protobuf request too; a followed file that reads
        // as text is a log (requests are framed, or start with a NUL of their length).
        if case .format(let format) = detected, format == .otlpProto || format == .otlpProtoVarintDelimited,
            head.withUnsafeBytes({ FormatDetector.looksLikeText($0) })
        {
            let jsonLines = head.withUnsafeBytes { FormatDetector.jsonLinesAfterTheFirst($0, isComplete: false) }
            return jsonLines ? .otlpJSON : .text
        }
        switch detected {
        case .format(let format): return format
        case .gzip, .zstd: return .otlpProto  // whole when quiet, never split
        default: return nil
        }
    }
}

/// Where reading a followed file got to, as the checkpoint file keeps it.
@_spi(Plumbing) public struct Checkpoint: Codable, Equatable, Sendable {
    var path: String
    var fingerprint: [UInt8]
    var offset: Int
    var line: Int
    var continuesLine: Bool
}
