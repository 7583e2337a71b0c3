@_spi(Plumbing) import TraplineCore
import TraplineRules

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Where the complete records of a followed file's new bytes end, and those records as UTF-8:
/// lines, `multiline` records, or protobuf frames, in the file's encoding.
enum RecordBoundaries {
    /// The number of leading bytes that hold only complete records (0: none yet). With
    /// `flush` (the file has been quiet for `force_flush_period`) the last record is complete
    /// even without its terminator.
    static func lastEnd(
        of raw: UnsafeRawBufferPointer, format: InputFormat, encoding: FollowedEncoding, multiline: MultilineRule?,
        flush: Bool
    ) -> Int {
        switch format {
        case .otlpProtoLengthPrefixed: return completeFrames(raw, varint: false)
        case .otlpProtoVarintDelimited: return completeFrames(raw, varint: true)
        case .otlpProto: return flush ? raw.count : 0
        case .text, .otlpJSON, .auto:
            if flush { return raw.count }
            guard let multiline else { return lastLineEnd(raw, encoding: encoding) }
            let lines = lineRanges(raw, encoding: encoding)
            if multiline.marksStart {
                // A record is complete when the next one has started: cut before the last start.
                guard
                    let last = lines.indices.dropFirst().last(where: {
                        matches(multiline, raw, lines[$0], encoding: encoding)
                    })
                else { return 0 }
                return lines[last].lowerBound
            }
            guard let last = lines.lastIndex(where: { matches(multiline, raw, $0, encoding: encoding) }) else {
                return 0
            }
            return lines[last].upperBound
        }
    }

    /// Where to split a line longer than `limit`: at a character boundary at or before it.
    static func splitPoint(_ raw: UnsafeRawBufferPointer, limit: Int, encoding: FollowedEncoding) -> Int {
        var cut = min(raw.count, limit)
        switch encoding {
        case .utf16le, .utf16be:
            cut -= cut % 2
            // Not between the halves of a surrogate pair.
            let high = encoding == .utf16le ? raw[cut - 1] : raw[cut - 2]
            if cut >= 4 && (0xD8...0xDB).contains(high) { cut -= 2 }
        case .utf8:
            var back = 0
            while back < 3 && cut - back > 0 && raw[cut - back] & 0xC0 == 0x80 { back += 1 }
            if cut - back > 0 && raw[cut - back] & 0xC0 != 0x80 { cut -= back }
        case .ascii, .latin1: break
        }
        return cut
    }

    /// The piece handed out for the first `cut` bytes of `storage` (complete records starting
    /// at `offset`, read straight into it): its bytes as UTF-8, its `multiline` records, and how
    /// many line breaks it holds. Takes `storage` over: UTF-8 lines are handed out in it, never
    /// copied; anything transcoded or grouped is copied once and `storage` deallocated.
    static func piece(
        _ storage: UnsafeMutableRawBufferPointer, cut: Int, path: String, offset: Int, line: Int, continuesLine: Bool,
        format: InputFormat, settings: FollowSettings, skipsByteOrderMark: Bool
    ) -> (piece: FollowedPiece, lineBreaks: Int) {
        var raw = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(storage)[0..<cut])
        var skipped = 0
        if skipsByteOrderMark {
            let mark: [UInt8] =
                switch settings.encoding {
                case .utf8: [0xEF, 0xBB, 0xBF]
                case .utf16le: [0xFF, 0xFE]
                case .utf16be: [0xFE, 0xFF]
                case .ascii, .latin1: []
                }
            if !mark.isEmpty && raw.starts(with: mark) {
                skipped = mark.count
                raw = UnsafeRawBufferPointer(rebasing: raw[mark.count...])
            }
        }
        var utf8: [UInt8] = []
        var records: [(range: Range<Int>, line: Int)]?
        var lineBreaks = 0
        let isLines = format == .text || format == .otlpJSON || format == .auto
        var buffer: InputBuffer
        if let multiline = settings.multiline, isLines {
            var found: [(range: Range<Int>, line: Int)] = []
            var lineNumber = line
            var closed = false
            for range in lineRanges(raw, encoding: settings.encoding, includingPartial: true) {
                let starts = utf8.count
                append(raw[range], encoding: settings.encoding, to: &utf8)
                let matched = matches(multiline, raw, range, encoding: settings.encoding)
                // A record opens at a start line, or after an end line.
                if found.isEmpty || (multiline.marksStart ? matched : closed) {
                    found.append((starts..<starts, lineNumber))
                }
                found[found.count - 1].range = found[found.count - 1].range.lowerBound..<utf8.count
                closed = !multiline.marksStart && matched
                if utf8.last == 0x0A {
                    lineNumber += 1
                    lineBreaks += 1
                }
            }
            records = found.filter { !$0.range.isEmpty }
            buffer = utf8.withUnsafeBytes { InputBuffer(copying: $0) }
            FollowedFile.readBuffers.giveBack(storage)
        } else if (settings.encoding == .utf8 || !isLines) && skipped == 0 {
            if isLines { lineBreaks = lineBreakCount(raw, format: format) }
            buffer = InputBuffer(pooled: storage, count: cut, pool: FollowedFile.readBuffers)
        } else if settings.encoding == .utf8 || !isLines {
            if isLines { lineBreaks = lineBreakCount(raw, format: format) }
            buffer = InputBuffer(copying: raw)
            FollowedFile.readBuffers.giveBack(storage)
        } else {
            append(raw[...], encoding: settings.encoding, to: &utf8)
            lineBreaks = utf8.withUnsafeBytes { lineBreakCount($0, format: format) }
            buffer = utf8.withUnsafeBytes { InputBuffer(copying: $0) }
            FollowedFile.readBuffers.giveBack(storage)
        }
        let piece = FollowedPiece(
            path: path, buffer: buffer, sourceOffset: offset + skipped, firstLine: line,
            continuesLine: continuesLine, format: format == .auto ? .text : format, records: records,
            rawCount: cut)
        return (piece, lineBreaks)
    }

    /// The line breaks in `bytes` as the reader of `format` numbers lines: text as the text
    /// decoder does (CR, LF and CRLF each end a line), JSON lines by their LFs (memchr runs
    /// through the rest between them).
    static func lineBreakCount(_ bytes: UnsafeRawBufferPointer, format: InputFormat) -> Int {
        if format == .text || format == .auto { return TextLogDecoder.lineBreakCount(bytes) }
        guard var cursor = bytes.baseAddress else { return 0 }
        let end = cursor + bytes.count
        var count = 0
        while cursor < end, let found = memchr(cursor, 0x0A, end - cursor) {
            count += 1
            cursor = UnsafeRawPointer(found) + 1
        }
        return count
    }

    // MARK: Lines in an encoding

    /// The end of the last line terminator (0 when there is none).
    private static func lastLineEnd(_ raw: UnsafeRawBufferPointer, encoding: FollowedEncoding) -> Int {
        switch encoding {
        case .utf16le, .utf16be:
            var index = raw.count - raw.count % 2 - 2
            while index >= 0 {
                if isBreak(raw, at: index, encoding: encoding) { return index + 2 }
                index -= 2
            }
            return 0
        case .utf8, .ascii, .latin1:
            return raw.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        }
    }

    /// Each line's bytes with its terminator: complete lines only, or the partial last one too.
    private static func lineRanges(
        _ raw: UnsafeRawBufferPointer, encoding: FollowedEncoding, includingPartial: Bool = false
    )
        -> [Range<Int>]
    {
        var ranges: [Range<Int>] = []
        let unit = encoding.unitSize
        var start = 0
        var index = 0
        while index + unit <= raw.count {
            if isBreak(raw, at: index, encoding: encoding) {
                ranges.append(start..<(index + unit))
                start = index + unit
            }
            index += unit
        }
        if includingPartial && start < raw.count { ranges.append(start..<raw.count) }
        return ranges
    }

    private static func isBreak(_ raw: UnsafeRawBufferPointer, at index: Int, encoding: FollowedEncoding) -> Bool {
        switch encoding {
        case .utf16le: raw[index] == 0x0A && raw[index + 1] == 0
        case .utf16be: raw[index] == 0 && raw[index + 1] == 0x0A
        case .utf8, .ascii, .latin1: raw[index] == 0x0A
        }
    }

    /// Whether a line (without its terminator, as UTF-8) matches the multiline pattern.
    private static func matches(
        _ rule: MultilineRule, _ raw: UnsafeRawBufferPointer, _ range: Range<Int>, encoding: FollowedEncoding
    )
        -> Bool
    {
        var text: [UInt8] = []
        if encoding == .utf8 {
            text = Array(raw[range])
        } else {
            append(raw[range], encoding: encoding, to: &text)
        }
        while let last = text.last, last == 0x0A || last == 0x0D { text.removeLast() }
        return text.withUnsafeBytes { rule.regex.isMatch($0) }
    }

    // MARK: Transcoding

    /// Appends `raw` (in `encoding`) to `utf8`; what cannot be decoded becomes U+FFFD.
    private static func append(_ raw: Slice<UnsafeRawBufferPointer>, encoding: FollowedEncoding, to utf8: inout [UInt8])
    {
        switch encoding {
        case .utf8: utf8.append(contentsOf: raw)
        case .ascii:
            for byte in raw {
                if byte < 0x80 { utf8.append(byte) } else { appendScalar(0xFFFD, to: &utf8) }
            }
        case .latin1:
            for byte in raw { appendScalar(UInt32(byte), to: &utf8) }
        case .utf16le, .utf16be:
            var index = raw.startIndex
            func unit(at position: Int) -> UInt32 {
                encoding == .utf16le
                    ? UInt32(raw[position]) | UInt32(raw[position + 1]) << 8
                    : UInt32(raw[position]) << 8 | UInt32(raw[position + 1])
            }
            while index + 1 < raw.endIndex {
                let first = unit(at: index)
                index += 2
                if (0xD800...0xDBFF).contains(first), index + 1 < raw.endIndex {
                    let second = unit(at: index)
                    if (0xDC00...0xDFFF).contains(second) {
                        index += 2
                        appendScalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00), to: &utf8)
                        continue
                    }
                }
                appendScalar((0xD800...0xDFFF).contains(first) ? 0xFFFD : first, to: &utf8)
            }
            if index < raw.endIndex { appendScalar(0xFFFD, to: &utf8) }  // half a code unit
        }
    }

    private static func appendScalar(_ scalar: UInt32, to utf8: inout [UInt8]) {
        switch scalar {
        case 0..<0x80: utf8.append(UInt8(scalar))
        case 0x80..<0x800:
            utf8.append(UInt8(0xC0 | scalar >> 6))
            utf8.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            utf8.append(UInt8(0xE0 | scalar >> 12))
            utf8.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            utf8.append(UInt8(0x80 | scalar & 0x3F))
        default:
            utf8.append(UInt8(0xF0 | scalar >> 18))
            utf8.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            utf8.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            utf8.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    // MARK: Protobuf frames

    /// The end of the last complete length-prefixed (4-byte big-endian or varint) frame.
    private static func completeFrames(_ raw: UnsafeRawBufferPointer, varint: Bool) -> Int {
        var position = 0
        while true {
            var length = 0
            var prefix = 0
            if varint {
                var shift = 0
                while position + prefix < raw.count && prefix < 10 {
                    let byte = raw[position + prefix]
                    length |= Int(byte & 0x7F) << shift
                    prefix += 1
                    if byte & 0x80 == 0 { break }
                    shift += 7
                }
                guard prefix > 0, raw[position + prefix - 1] & 0x80 == 0 else { return position }
            } else {
                guard position + 4 <= raw.count else { return position }
                length = raw[position..<(position + 4)].reduce(0) { $0 << 8 | Int($1) }
                prefix = 4
            }
            guard position + prefix + length <= raw.count else { return position }
            position += prefix + length
        }
    }
}
