/// Bad input: what is wrong and where, as a byte offset from the start of the source.
///
/// Thrown with typed throws (`throws(DecodeError)`) so nothing is boxed on the hot path. The
/// text is built when rendered (`description`), never when thrown.
public struct DecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Why the input was rejected. Extensible: new codes are new static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A stable snake_case name, used as the `reason` in reports and metric labels.
        public let name: String

        /// Makes a code; only this module defines new ones.
        init(_ name: String) { self.name = name }

        public var description: String { name }

        /// A varint ran off the end of its message.
        public static let truncatedVarint = Code("truncated_varint")
        /// A varint longer than 10 bytes.
        public static let varintTooLong = Code("varint_too_long")
        /// A fixed 32/64-bit value ran off the end of its message.
        public static let truncatedFixed = Code("truncated_fixed")
        /// A length-delimited field claims more bytes than its enclosing message has left.
        public static let lengthPastEnd = Code("length_past_end")
        /// Wire type 6 or 7, which protobuf does not define.
        public static let invalidWireType = Code("invalid_wire_type")
        /// Field number 0, which protobuf forbids.
        public static let fieldNumberZero = Code("field_number_zero")
        /// A known field arrived with a wire type its schema does not allow.
        public static let wrongWireType = Code("wrong_wire_type")
        /// An end-group tag with no matching start, or a group never closed.
        public static let unbalancedGroup = Code("unbalanced_group")
        /// Messages or values nested deeper than the limit (100).
        public static let nestingTooDeep = Code("nesting_too_deep")
        /// A `string` field that is not valid UTF-8.
        public static let invalidUTF8 = Code("invalid_utf8")
        /// A trace id not 16 bytes, or a span id not 8 bytes (empty is allowed: it means unset).
        public static let invalidIDLength = Code("invalid_id_length")
        /// A resource or scope of this record was rejected, so the record cannot be kept.
        public static let invalidParent = Code("invalid_parent")
        /// A stream frame whose length prefix runs past the end of the input.
        public static let truncatedFrame = Code("truncated_frame")
        /// A frame larger than the configured limit.
        public static let frameTooLarge = Code("frame_too_large")
        /// A file that became shorter while it was read (another process truncated it): the
        /// frames past its new end are gone.
        public static let inputShrank = Code("input_shrank")
        /// A protobuf request whose records are neither spans nor log records.
        public static let unknownSignal = Code("unknown_signal")
        /// gzip data that zlib cannot inflate (a bad header or bad compressed data); `value`: the
        /// compressed offset of the member.
        public static let corruptGzip = Code("corrupt_gzip")
        /// gzip input that ends inside a member (cut short).
        public static let gzipTruncated = Code("gzip_truncated")
        /// A gzip member whose CRC-32 or length does not match its data: none of it is used.
        public static let gzipChecksumMismatch = Code("gzip_checksum_mismatch")
        /// Bytes after the last gzip member that are neither a member nor zero padding.
        public static let gzipTrailingGarbage = Code("gzip_trailing_garbage")
        /// Decompressed output past the configured cap.
        public static let decompressedTooLarge = Code("decompressed_too_large")
        /// A compression format Trapline does not read (zstd).
        public static let unsupportedCompression = Code("unsupported_compression")
        /// A request whose media type a receiver does not take (OTLP/HTTP: protobuf or JSON).
        public static let unsupportedMediaType = Code("unsupported_media_type")
        /// Bytes that are not JSON (a syntax error); what follows in the same value is lost.
        public static let invalidJSON = Code("invalid_json")
        /// A JSON value of the wrong type for its field (a string where an object belongs …).
        public static let wrongJSONType = Code("wrong_json_type")
        /// An id that is not hexadecimal (odd length, base64, other characters).
        public static let invalidHexID = Code("invalid_hex_id")
        /// A number that does not fit its field: a fraction or exponent for an integer, out of range.
        public static let invalidNumber = Code("invalid_number")
        /// A `\u` escape naming half of a UTF-16 surrogate pair without the other half.
        public static let loneSurrogate = Code("lone_surrogate")
        /// `bytesValue` that is not base64.
        public static let invalidBase64 = Code("invalid_base64")
        /// An enum name that is not one of the field's values.
        public static let unknownEnumName = Code("unknown_enum_name")
        /// OTLP JSON of a signal Trapline does not process (metrics, profiles).
        public static let unsupportedSignal = Code("unsupported_signal")
        /// A processor's rule failed under `error_mode: propagate`, so the processor refused
        /// the records of the frame (the Collector drops the payload).
        public static let ruleError = Code("rule_error")
        /// Records of a signal that no pipeline takes (a traces-only pipeline file replaying
        /// logs): nothing would export them, so they are not counted as forwarded.
        public static let noPipeline = Code("no_pipeline")
        /// Records an exporter could not write (the output failed: disk full, a closed pipe …).
        /// `offset` is the bytes the output took before it failed.
        public static let exportFailed = Code("export_failed")
        /// A frame cut off by a stop (SIGTERM, SIGINT) before it had arrived whole: not damaged
        /// input, so it does not make the exit status say so.
        public static let interrupted = Code("interrupted")

        /// Every code, so metric families can be declared once, before any input is seen.
        public static let all: [Code] = [
            .truncatedVarint, .varintTooLong, .truncatedFixed, .lengthPastEnd, .invalidWireType, .fieldNumberZero,
            .wrongWireType, .unbalancedGroup, .nestingTooDeep, .invalidUTF8, .invalidIDLength, .invalidParent,
            .truncatedFrame, .frameTooLarge, .inputShrank, .unknownSignal, .corruptGzip, .gzipTruncated,
            .gzipChecksumMismatch, .gzipTrailingGarbage, .decompressedTooLarge,
            .unsupportedCompression, .unsupportedMediaType, .invalidJSON, .wrongJSONType, .invalidHexID, .invalidNumber,
            .loneSurrogate,
            .invalidBase64, .unknownEnumName, .unsupportedSignal, .ruleError, .noPipeline, .exportFailed,
            .interrupted,
        ]
    }

    /// What is wrong.
    public var code: Code
    /// Byte offset from the start of the source (after decompression for gzip input).
    public var offset: Int
    /// The field being read, as `Message.field`, when known.
    public var field: StaticString?
    /// A number that explains the failure (a declared length, a depth, an id length).
    public var value: Int?
    /// The bound the value broke (bytes left, the depth limit, the expected id length).
    public var limit: Int?
    /// 1-based line of the offset, for text formats (JSON).
    public var line: Int?
    /// 1-based column (in bytes) of the offset, for text formats (JSON).
    public var column: Int?

    /// Makes an error.
    public init(
        _ code: Code, offset: Int, field: StaticString? = nil, value: Int? = nil, limit: Int? = nil, line: Int? = nil,
        column: Int? = nil
    ) {
        self.code = code
        self.offset = offset
        self.field = field
        self.value = value
        self.limit = limit
        self.line = line
        self.column = column
    }

    public static func == (lhs: DecodeError, rhs: DecodeError) -> Bool {
        lhs.code == rhs.code && lhs.offset == rhs.offset && lhs.value == rhs.value && lhs.limit == rhs.limit
            && lhs.fieldName == rhs.fieldName && lhs.line == rhs.line && lhs.column == rhs.column
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(offset)
    }

    /// The field name as a `String`, when known.
    public var fieldName: String? { field.map { "\($0)" } }

    /// A sentence for people: the reason, the field and the numbers involved.
    public var description: String {
        var text: String
        switch code {
        case .truncatedVarint: text = "varint runs past the end of its message"
        case .varintTooLong: text = "varint longer than 10 bytes"
        case .truncatedFixed: text = "fixed-width value runs past the end of its message"
        case .lengthPastEnd: text = "length \(value ?? 0) runs past the end of its message (\(limit ?? 0) bytes left)"
        case .invalidWireType: text = "invalid wire type \(value ?? 0)"
        case .fieldNumberZero: text = "field number 0 is not allowed"
        case .wrongWireType: text = "wire type \(value ?? 0) is not allowed for this field"
        case .unbalancedGroup: text = "unbalanced start/end group tags"
        case .nestingTooDeep: text = "nesting deeper than \(limit ?? 100) levels"
        case .invalidUTF8: text = "string is not valid UTF-8"
        case .invalidIDLength: text = "id is \(value ?? 0) bytes, expected \(limit ?? 0) (or empty)"
        case .invalidParent: text = "its resource or scope was rejected"
        case .truncatedFrame:
            text = "frame of \(value ?? 0) bytes runs past the end of the input (\(limit ?? 0) bytes left)"
        case .inputShrank:
            text =
                "the file shrank while being read (truncated by another process?): "
                + "the frame of \(value ?? 0) bytes here is gone"
        case .frameTooLarge:
            text =
                value.map { "frame of \($0) bytes is over the \(limit ?? 0)-byte limit" }
                ?? "frame is over the \(limit ?? 0)-byte limit"
        case .unknownSignal: text = "request holds neither spans nor log records"
        case .corruptGzip:
            text =
                "gzip data is corrupt (a bad header or bad compressed data) in the member at compressed byte \(value ?? 0)"
        case .gzipTruncated:
            text = "gzip data ends inside the member at compressed byte \(value ?? 0): the input was cut short"
        case .gzipChecksumMismatch:
            text =
                "the gzip member at compressed byte \(value ?? 0) fails its CRC-32 or length check: "
                + "none of its data was used"
        case .gzipTrailingGarbage:
            text =
                "bytes after the last gzip member, at compressed byte \(value ?? 0), are neither gzip nor zero padding"
        case .decompressedTooLarge: text = "decompressed size is over the \(limit ?? 0)-byte limit"
        case .unsupportedCompression: text = "zstd-compressed input is not supported; decompress it first (zstd -d)"
        case .unsupportedMediaType: text = "request of a media type the receiver does not take"
        case .invalidJSON: text = "not valid JSON"
        case .wrongJSONType: text = "JSON value of the wrong type for this field"
        case .invalidHexID:
            text =
                value.map { "id has an odd number of hex digits (\($0), expected \(limit ?? 0) or none)" }
                ?? "id is not hexadecimal (OTLP JSON ids are hex, not base64)"
        case .invalidNumber: text = "number does not fit the field (a fraction, an exponent or out of range)"
        case .loneSurrogate: text = "\\u escape is half a surrogate pair"
        case .invalidBase64: text = "bytes value is not base64"
        case .unknownEnumName: text = "unknown enum name"
        case .unsupportedSignal: text = "OTLP JSON of a signal Trapline does not process (metrics or profiles)"
        case .ruleError:
            text = "a processor rule failed under error_mode: propagate, so the frame's records were refused"
        case .noPipeline:
            text = "no pipeline takes records of this signal; nothing would export them"
        case .exportFailed: text = "the output failed after \(offset) bytes; these records were not written"
        case .interrupted:
            text = "reading stopped (SIGTERM/SIGINT) before this frame had arrived whole"
        default: text = code.name
        }
        if let field { text += " (field \(field))" }
        if let line, let column { text += " at line \(line), column \(column)" }
        return text
    }
}
