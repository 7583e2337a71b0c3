/// Turns plain-text lines (build logs, application logs) into log records.
///
/// Each non-empty line becomes one record: the body is the line without its terminator (LF,
/// CRLF or a lone CR), with attributes `log.file.path` (the source) and `log.file.line_number`.
/// Valid UTF-8 bodies are slices of the input; a line with invalid UTF-8 is copied to the
/// arena with each bad sequence replaced by U+FFFD and counted. NUL bytes are kept: they are
/// valid UTF-8. Empty lines carry no record but are counted for line numbers.
@_spi(Plumbing) public struct TextLogDecoder: Sendable {
    /// The attribute key for the source path.
    public static let pathAttributeKey = "log.file.path"
    /// The attribute key for the 1-based line number.
    public static let lineAttributeKey = "log.file.line_number"

    /// Counts of what the decoder repaired.
    public struct Summary: Hashable, Sendable {
        /// Records whose body had invalid UTF-8 replaced.
        public var repairedLines = 0
        /// Records that continue a line too long for one record.
        public var continuedLines = 0

        /// Makes zero counts.
        public init() {}
    }

    /// Makes a decoder.
    public init() {}

    /// Number of line terminators in `bytes` (CRLF counts once).
    public static func lineBreakCount(_ bytes: UnsafeRawBufferPointer) -> Int {
        var count = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0A {
                count += 1
            } else if byte == 0x0D {
                count += 1
                if index + 1 < bytes.count && bytes[index + 1] == 0x0A { index += 1 }
            }
            index += 1
        }
        return count
    }

    /// Decodes the lines of `input[frame]` into `batch` (which is reset first).
    ///
    /// - Parameters:
    ///   - input: the buffer holding the lines (valid UTF-8 bodies are slices of it).
    ///   - frame: the lines' bytes within `input`.
    ///   - sourceOffset: offset of the frame in its source.
    ///   - firstLine: the line number of the frame's first line.
    ///   - continuesLine: whether the frame starts in the middle of a split line.
    ///   - sourcePath: the value of `log.file.path`.
    ///   - observedTime: `observed_time_unix_nano` for every record.
    ///   - batch: reset, then filled.
    /// - Returns: what was repaired.
    public func decode(
        input: InputBuffer, frame: Range<Int>, sourceOffset: Int, firstLine: Int, continuesLine: Bool,
        sourcePath: String, observedTime: UInt64, into batch: inout LogBatch
    ) -> Summary {
        batch.reset(input: input, frame: frame, sourceOffset: sourceOffset)
        var summary = Summary()
        let pathKey = batch.storage.appendToArena(Self.pathAttributeKey.utf8)
        let lineKey = batch.storage.appendToArena(Self.lineAttributeKey.utf8)
        let pathValue = batch.storage.appendToArena(sourcePath.utf8)
        var resource = ResourceEntry()
        resource.scopes = RowRange(start: 0, end: 1)
        batch.resources.append(resource)
        batch.scopes.append(ScopeEntry())
        let bytes = UnsafeRawBufferPointer(rebasing: input.bytes[frame])
        var line = firstLine
        var start = 0
        var index = 0
        var continuing = continuesLine
        withExtendedLifetime(input) {
            while start < bytes.count {
                // Find the end of this line.
                index = start
                while index < bytes.count && bytes[index] != 0x0A && bytes[index] != 0x0D { index += 1 }
                let lineEnd = index
                var next = index
                if next < bytes.count {
                    next += (bytes[next] == 0x0D && next + 1 < bytes.count && bytes[next + 1] == 0x0A) ? 2 : 1
                }
                if lineEnd > start {
                    var row = LogRow()
                    row.observedTime = observedTime
                    row.body = .slice(
                        .string, body(bytes, start..<lineEnd, arena: &batch.storage.arena, summary: &summary))
                    let firstAttribute = batch.attributes.count
                    batch.attributes.append(key: pathKey, value: .slice(.string, pathValue))
                    batch.attributes.append(key: lineKey, value: AnyValueRef(kind: .int, payload: UInt64(line)))
                    row.attributes = RowRange(start: firstAttribute, end: batch.attributes.count)
                    batch.appendRow(row)
                    if continuing { summary.continuedLines += 1 }
                }
                continuing = false
                if next > lineEnd { line += 1 }
                start = next
            }
        }
        batch.scopes[0].rows = RowRange(start: 0, end: batch.count)
        return summary
    }

    /// Decodes `input[frame]` as one record of several lines (a `multiline` record of a
    /// followed file) into `batch` (which is reset first): the body is the frame without its
    /// last line terminator, the line number that of its first line. Allocates nothing beyond
    /// the batch's reusable storage (and the arena for invalid UTF-8).
    public func decodeRecord(
        input: InputBuffer, frame: Range<Int>, sourceOffset: Int, firstLine: Int, sourcePath: String,
        observedTime: UInt64, into batch: inout LogBatch
    ) -> Summary {
        batch.reset(input: input, frame: frame, sourceOffset: sourceOffset)
        var summary = Summary()
        var resource = ResourceEntry()
        resource.scopes = RowRange(start: 0, end: 1)
        batch.resources.append(resource)
        batch.scopes.append(ScopeEntry())
        let bytes = UnsafeRawBufferPointer(rebasing: input.bytes[frame])
        var end = bytes.count
        if end > 0 && bytes[end - 1] == 0x0A { end -= 1 }
        if end > 0 && bytes[end - 1] == 0x0D { end -= 1 }
        withExtendedLifetime(input) {
            var row = LogRow()
            row.observedTime = observedTime
            row.body = .slice(.string, body(bytes, 0..<end, arena: &batch.storage.arena, summary: &summary))
            let pathKey = batch.storage.appendToArena(Self.pathAttributeKey.utf8)
            let lineKey = batch.storage.appendToArena(Self.lineAttributeKey.utf8)
            let pathValue = batch.storage.appendToArena(sourcePath.utf8)
            let firstAttribute = batch.attributes.count
            batch.attributes.append(key: pathKey, value: .slice(.string, pathValue))
            batch.attributes.append(key: lineKey, value: AnyValueRef(kind: .int, payload: UInt64(firstLine)))
            row.attributes = RowRange(start: firstAttribute, end: batch.attributes.count)
            batch.appendRow(row)
        }
        batch.scopes[0].rows = RowRange(start: 0, end: batch.count)
        return summary
    }

    private func body(
        _ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, arena: inout [UInt8], summary: inout Summary
    ) -> ByteSlice {
        let line = UnsafeRawBufferPointer(rebasing: bytes[range])
        guard UTF8Validation.firstInvalidOffset(line) != nil else {
            return ByteSlice(start: UInt32(range.lowerBound), count: UInt32(range.count))
        }
        summary.repairedLines += 1
        let arenaStart = arena.count
        var index = 0
        while index < line.count {
            let length = UTF8Validation.validSequenceLength(line, at: index)
            if length > 0 {
                arena.append(contentsOf: line[index..<(index + length)])
                index += length
            } else {
                arena.append(contentsOf: [0xEF, 0xBF, 0xBD])  // U+FFFD
                index += 1
            }
        }
        return .arena(start: arenaStart, count: arena.count - arenaStart)
    }
}
