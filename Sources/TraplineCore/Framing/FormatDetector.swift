/// What the first bytes of an input say it is.
package enum DetectedInput: Hashable, Sendable {
    /// No bytes at all.
    case empty
    /// gzip magic: inflate, then detect again.
    case gzip
    /// zstd magic (not supported).
    case zstd
    /// A layout of `InputFormat` (never `.auto`).
    case format(InputFormat)
}

/// Detects the input layout from its first bytes.
///
/// Protobuf layouts are recognised by walking their framing: every length must fit and the
/// first resource entry must start like one, so text that happens to begin with a newline
/// (0x0A, also protobuf's field-1 tag) is not taken for protobuf. What fits no binary layout
/// and is not JSON is text.
package enum FormatDetector {
    /// How many bytes detection wants to see when a stream can give them.
    package static let preferredPrefixLength = 64 * 1024
    /// The most bytes detection reads ahead when the first line of text fills the prefix.
    package static let maxPrefixLength = 4 << 20

    /// Detects the layout of `prefix`, the first bytes of the input.
    ///
    /// Binary layouts are tried strictly first (every frame walks as a request). When none fits,
    /// the evidence across the prefix decides, so one damaged frame or a broken first line does
    /// not change the signal of a whole capture: text is chosen only for bytes that are text; a
    /// stream framed as length-prefixed or varint-delimited requests stays so (its damaged frame
    /// is then a rejection at its offset); JSON lines whose first line is broken stay JSON; and
    /// binary that fits no layout is read as one protobuf request, whose decoder names the
    /// offset and the reason.
    ///
    /// - Parameters:
    ///   - prefix: the first bytes (all of them when `isComplete`).
    ///   - isComplete: whether `prefix` is the whole input, so framings must end exactly.
    package static func detect(_ prefix: UnsafeRawBufferPointer, isComplete: Bool) -> DetectedInput {
        guard prefix.count > 0 else { return .empty }
        if prefix.count >= 2 && prefix[0] == 0x1F && prefix[1] == 0x8B { return .gzip }
        if prefix.count >= 4 && prefix[0] == 0x28 && prefix[1] == 0xB5 && prefix[2] == 0x2F && prefix[3] == 0xFD {
            return .zstd
        }
        // Only white space: nothing to read, in any layout.
        if isComplete && firstSignificantOffset(prefix) == prefix.count { return .empty }
        if startsLikeJSON(prefix) { return .format(.otlpJSON) }
        if prefix[0] == 0 && fitsLengthPrefixed(prefix, isComplete: isComplete) {
            return .format(.otlpProtoLengthPrefixed)
        }
        if fitsSingleMessage(prefix, isComplete: isComplete) { return .format(.otlpProto) }
        if fitsVarintDelimited(prefix, isComplete: isComplete) { return .format(.otlpProtoVarintDelimited) }
        if looksLikeText(prefix) {
            return jsonLinesAfterTheFirst(prefix, isComplete: isComplete) ? .format(.otlpJSON) : .format(.text)
        }
        // Binary that no layout fits whole: the framing that holds across the prefix wins.
        if prefix[0] == 0 && framingEvidence(prefix, isComplete: isComplete, lengthAt: bigEndianLength).holds {
            return .format(.otlpProtoLengthPrefixed)
        }
        if prefix[0] != 0x0A && framingEvidence(prefix, isComplete: isComplete, lengthAt: varintLength).holds {
            return .format(.otlpProtoVarintDelimited)
        }
        return .format(.otlpProto)
    }

    /// Whether `bytes` read as text: no NUL, and hardly any other control character but white
    /// space, ESC (ANSI colours), BS and BEL. Every OTLP protobuf request has field tags and
    /// lengths among 0x01–0x1F (and ids with random bytes), so it fails this at once.
    package static func looksLikeText(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var controls = 0
        for byte in bytes where byte < 0x20 {
            switch byte {
            case 0x00: return false
            case 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1B: continue
            default: controls += 1
            }
        }
        return controls * 200 <= bytes.count
    }

    /// Whether text whose first line is not JSON is JSON lines all the same: most of the lines
    /// after it (and at least one) start like a JSON object. The broken first line is then a
    /// rejection at line 1, not the reason the whole input becomes log records.
    package static func jsonLinesAfterTheFirst(_ bytes: UnsafeRawBufferPointer, isComplete: Bool) -> Bool {
        var lineStart = 0
        var lines = 0
        var jsonLines = 0
        var first = true
        while lineStart < bytes.count {
            // The last line of a cut-off prefix may be cut too: its start still tells.
            let newline = bytes.indexOfByte(0x0A, startingAt: lineStart)
            let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<(newline ?? bytes.count)])
            lineStart = (newline ?? bytes.count) + 1
            guard firstSignificantOffset(line) < line.count else { continue }
            if first {
                first = false
                continue
            }
            lines += 1
            if startsLikeJSON(line) && line[firstSignificantOffset(line)] == UInt8(ascii: "{") { jsonLines += 1 }
        }
        return jsonLines > 0 && jsonLines * 2 > lines
    }

    /// A 4-byte big-endian length at `position`: `(prefix bytes, length)`, or nil past the end.
    static func bigEndianLength(_ bytes: UnsafeRawBufferPointer, _ position: Int) -> (Int, Int)? {
        guard position + 4 <= bytes.count else { return nil }
        let length =
            Int(bytes[position]) << 24 | Int(bytes[position + 1]) << 16 | Int(bytes[position + 2]) << 8
            | Int(bytes[position + 3])
        return (4, length)
    }

    /// A varint length at `position`: `(prefix bytes, length)`, or nil when none can be read.
    private static func varintLength(_ bytes: UnsafeRawBufferPointer, _ position: Int) -> (Int, Int)? {
        var reader = WireReader(frame: bytes, start: position, end: bytes.count)
        guard let length = try? reader.readVarint(), length <= UInt64(Int32.max) else { return nil }
        return (reader.position - position, Int(length))
    }

    /// How far a framing holds over `bytes`: frames whose lengths chain from the start, and how
    /// many of them walk as requests. It holds when a request is among them and the chain
    /// reaches the end (or the cut of an incomplete prefix) or breaks only after two frames.
    static func framingEvidence(
        _ bytes: UnsafeRawBufferPointer, isComplete: Bool,
        lengthAt: (UnsafeRawBufferPointer, Int) -> (Int, Int)?
    ) -> (frames: Int, requests: Int, holds: Bool) {
        var position = 0
        var frames = 0
        var requests = 0
        var reachedEnd = false
        while true {
            if position == bytes.count {
                reachedEnd = true
                break
            }
            guard let (prefixLength, length) = lengthAt(bytes, position) else {
                reachedEnd = !isComplete
                break
            }
            let start = position + prefixLength
            if length > bytes.count - start {
                // Cut off by the end of an incomplete prefix: as far as it goes, it holds.
                reachedEnd = !isComplete
                if reachedEnd && looksLikeRequest(bytes, start..<bytes.count, cutOff: true, strictFirstEntry: false) {
                    requests += 1
                }
                break
            }
            frames += 1
            // An empty frame walks as anything: only a frame with content is evidence.
            if length > 0 && looksLikeRequest(bytes, start..<(start + length), cutOff: false, strictFirstEntry: false) {
                requests += 1
            }
            position = start + length
        }
        return (frames, requests, requests > 0 && (reachedEnd || frames >= 2))
    }

    /// How many zero bytes `bytes` starts with, counted a word at a time (runs of empty
    /// frames are skipped with it).
    static func leadingZeroCount(_ bytes: UnsafeRawBufferPointer) -> Int {
        var zeros = 0
        // Safe: each load reads 8 bytes below `bytes.count`.
        while zeros + 8 <= bytes.count && bytes.loadUnaligned(fromByteOffset: zeros, as: UInt64.self) == 0 {
            zeros &+= 8
        }
        while zeros < bytes.count && bytes[zeros] == 0 { zeros &+= 1 }
        return zeros
    }

    /// Offset of the first byte that is not a UTF-8 BOM or JSON white space.
    package static func firstSignificantOffset(_ bytes: UnsafeRawBufferPointer) -> Int {
        var index = 0
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { index = 3 }
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        return index
    }

    static func startsLikeJSON(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let index = firstSignificantOffset(bytes)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") || bytes[index] == UInt8(ascii: "[") else {
            return false
        }
        // `{` then white space, `"` or `}`: JSON; text lines that start with a brace rarely do.
        var next = index + 1
        while next < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[next]) { next += 1 }
        guard next < bytes.count else { return true }
        let second = bytes[next]
        return second == UInt8(ascii: "\"") || second == UInt8(ascii: "}") || second == UInt8(ascii: "{")
            || second == UInt8(ascii: "]")
    }

    /// Whether `bytes[region]` walks as an export request: valid tags, lengths that fit, and a
    /// first resource entry that starts with one of its own fields. A region cut off by the end
    /// of an incomplete prefix only has to be valid as far as it goes.
    static func looksLikeRequest(
        _ bytes: UnsafeRawBufferPointer, _ region: Range<Int>, cutOff: Bool, afterWholeFrames: Bool = false,
        strictFirstEntry: Bool = true
    ) -> Bool {
        var reader = WireReader(frame: bytes, start: region.lowerBound, end: region.upperBound)
        var sawResourceEntry = false
        do throws(DecodeError) {
            while !reader.isAtEnd {
                let tag = try reader.readTag()
                if tag.number == 1 && tag.wireType == .lengthDelimited {
                    let length = try reader.readVarint()
                    let contentStart = reader.position
                    if strictFirstEntry && !sawResourceEntry && length > 0 && contentStart < region.upperBound {
                        // ResourceSpans/ResourceLogs fields 1–3 are all length-delimited: 0x0A, 0x12, 0x1A.
                        // (Where text could pass for protobuf; a length-prefixed stream starts with
                        // 0x00, which no text does, so there any entry may lead with unknown fields.)
                        guard [0x0A, 0x12, 0x1A].contains(bytes[contentStart]) else { return false }
                    }
                    sawResourceEntry = true
                    if length > UInt64(region.upperBound - contentStart) { return cutOff }
                    reader.position = contentStart + Int(length)
                } else {
                    try reader.skipField(tag, depth: 0, maxDepth: 100)
                }
            }
        } catch {
            // Only running out of bytes may be forgiven, and only where the input was cut off.
            let ranOut = [Rejection.Reason.truncatedVarint, .truncatedFixed, .lengthPastEnd].contains(error.reason)
            return cutOff && ranOut && (sawResourceEntry || afterWholeFrames)
        }
        return sawResourceEntry || region.isEmpty
    }

    static func fitsSingleMessage(_ bytes: UnsafeRawBufferPointer, isComplete: Bool) -> Bool {
        guard bytes[0] == 0x0A else { return false }
        // A cut-off message is still a message: the decoder keeps what came before the cut.
        return looksLikeRequest(bytes, 0..<bytes.count, cutOff: true)
    }

    static func fitsLengthPrefixed(_ bytes: UnsafeRawBufferPointer, isComplete: Bool) -> Bool {
        var position = 0
        while position < bytes.count {
            // A prefix cut off after whole frames is a stream that was cut off.
            guard let (_, length) = bigEndianLength(bytes, position) else { return !isComplete || position > 0 }
            let start = position + 4
            let end = start + length
            if end > bytes.count {
                // A stream cut off inside its last frame (a killed writer) is still this layout.
                return looksLikeRequest(
                    bytes, start..<bytes.count, cutOff: true, afterWholeFrames: position > 0, strictFirstEntry: false)
            }
            guard looksLikeRequest(bytes, start..<end, cutOff: false, strictFirstEntry: false) else { return false }
            position = end
        }
        return true
    }

    static func fitsVarintDelimited(_ bytes: UnsafeRawBufferPointer, isComplete: Bool) -> Bool {
        var reader = WireReader(frame: bytes)
        var frames = 0
        while !reader.isAtEnd {
            guard let length = try? reader.readVarint() else { return !isComplete || frames > 0 }
            let start = reader.position
            if length > UInt64(bytes.count - start) {
                // Cut off in its last frame: believable after one whole frame, or mid-stream.
                return (!isComplete || frames > 0)
                    && looksLikeRequest(bytes, start..<bytes.count, cutOff: true, afterWholeFrames: frames > 0)
            }
            frames += 1
            let end = start + Int(length)
            guard looksLikeRequest(bytes, start..<end, cutOff: false) else { return false }
            reader.position = end
        }
        return true
    }
}

/// Tells spans, log records and metrics apart by the wire types of a request's first record:
/// spans and logs disagree on fields 1, 2, 6, 7, 8, 11 and 16, so one tag usually settles it;
/// a metric's fields are all length-delimited, and its data message holds data points.
package enum SignalDetector {
    /// The signal of the export request in `bytes`, or `nil` when it holds no record that
    /// tells (no records, or only empty ones).
    ///
    /// - Parameters:
    ///   - bytes: the request, or its head.
    ///   - clipped: `bytes` is only the head of the request: containers that run past it are
    ///     read as far as they go.
    package static func detect(_ bytes: UnsafeRawBufferPointer, clipped: Bool = false) -> Signal? {
        var request = WireReader(frame: bytes)
        while !request.isAtEnd {
            guard let tag = try? request.readTag() else { return nil }
            guard tag.number == 1, tag.wireType == .lengthDelimited, let entry = region(&request, clipped) else {
                guard (try? request.skipField(tag, depth: 0, maxDepth: 100)) != nil else { return nil }
                continue
            }
            if let signal = detectInResourceEntry(request.subReader(entry), clipped) { return signal }
        }
        return nil
    }

    /// A length-delimited region; with `clipped`, one running past the bytes ends where they do.
    private static func region(_ reader: inout WireReader, _ clipped: Bool) -> Range<Int>? {
        let start = reader.position
        if let region = try? reader.readLengthDelimited() { return region }
        guard clipped else { return nil }
        reader.position = start
        guard (try? reader.readVarint()) != nil else { return nil }
        let region = reader.position..<reader.end
        reader.position = reader.end
        return region
    }

    private static func detectInResourceEntry(_ reader: WireReader, _ clipped: Bool) -> Signal? {
        var reader = reader
        while !reader.isAtEnd {
            guard let tag = try? reader.readTag() else { return nil }
            if tag.number == 2, tag.wireType == .lengthDelimited, let scope = region(&reader, clipped) {
                var scopeReader = reader.subReader(scope)
                while !scopeReader.isAtEnd {
                    guard let inner = try? scopeReader.readTag() else { break }
                    if inner.number == 2, inner.wireType == .lengthDelimited, let record = region(&scopeReader, clipped)
                    {
                        if let signal = classifyRecord(scopeReader.subReader(record)) { return signal }
                    } else if (try? scopeReader.skipField(inner, depth: 0, maxDepth: 100)) == nil {
                        break
                    }
                }
            } else if (try? reader.skipField(tag, depth: 0, maxDepth: 100)) == nil {
                return nil
            }
        }
        return nil
    }

    private static func classifyRecord(_ reader: WireReader) -> Signal? {
        var reader = reader
        var couldBeSpan = true
        var couldBeLog = true
        var couldBeMetric = true
        // A metric is all length-delimited fields; only its data message tells it from a span
        // that happens to use the same numbers (ids, name, attributes).
        var dataIsMessage = false
        var idLengthsFitSpan = true
        while !reader.isAtEnd, couldBeSpan || couldBeLog || couldBeMetric {
            guard let tag = try? reader.readTag() else { break }
            if let expected = spanWireType(tag.number), expected != tag.wireType { couldBeSpan = false }
            if let expected = logWireType(tag.number), expected != tag.wireType { couldBeLog = false }
            if metricFields.contains(tag.number), tag.wireType != .lengthDelimited { couldBeMetric = false }
            if tag.wireType == .lengthDelimited {
                guard let content = try? reader.readLengthDelimited() else { break }
                if tag.number == 1 && !(content.count == 0 || content.count == 16) { idLengthsFitSpan = false }
                if tag.number == 2 && !(content.count == 0 || content.count == 8) { idLengthsFitSpan = false }
                if [5, 7, 9, 10, 11].contains(tag.number) {
                    if isDataMessage(reader.subReader(content)) { dataIsMessage = true } else { couldBeMetric = false }
                }
                continue
            }
            if (try? reader.skipField(tag, depth: 0, maxDepth: 100)) == nil { break }
        }
        // A log record with nothing but a body could also read as a metric: logs win that tie.
        if couldBeMetric && dataIsMessage && !couldBeLog && (!couldBeSpan || !idLengthsFitSpan) { return .metrics }
        switch (couldBeSpan, couldBeLog) {
        case (true, false): return .traces
        case (false, true): return .logs
        default: return nil
        }
    }

    /// The fields of `Metric`, every one length-delimited.
    private static let metricFields: Set<UInt32> = [1, 2, 3, 5, 7, 9, 10, 11, 12]

    /// Whether bytes read as a metric's data message: data points (field 1, messages) and
    /// varint temporality and monotonicity, nothing else.
    private static func isDataMessage(_ reader: WireReader) -> Bool {
        var reader = reader
        var points = 0
        while !reader.isAtEnd {
            guard let tag = try? reader.readTag() else { return false }
            switch (tag.number, tag.wireType) {
            case (1, .lengthDelimited): points += 1
            case (2, .varint), (3, .varint): break
            default: return false
            }
            guard (try? reader.skipField(tag, depth: 0, maxDepth: 100)) != nil else { return false }
        }
        return points > 0
    }

    private static func spanWireType(_ field: UInt32) -> WireType? {
        switch field {
        case 1, 2, 3, 4, 5, 9, 11, 13, 15: return .lengthDelimited
        case 6, 10, 12, 14: return .varint
        case 7, 8: return .fixed64
        case 16: return .fixed32
        default: return nil
        }
    }

    private static func logWireType(_ field: UInt32) -> WireType? {
        switch field {
        case 3, 5, 6, 9, 10, 12: return .lengthDelimited
        case 2, 7: return .varint
        case 1, 11: return .fixed64
        case 8: return .fixed32
        default: return nil
        }
    }
}
