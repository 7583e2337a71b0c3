/// Bad input: what is wrong and where, as a byte offset from the start of the source.
///
/// Thrown with typed throws (`throws(DecodeError)`) so nothing is boxed on the hot path. The
/// text is built when rendered (`description`), never when thrown.
public struct DecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Why the input was rejected (the `reason` in reports and metrics).
    public var reason: Rejection.Reason
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

    /// Makes an error. Allocates nothing.
    public init(
        _ reason: Rejection.Reason, offset: Int, field: StaticString? = nil, value: Int? = nil, limit: Int? = nil,
        line: Int? = nil,
        column: Int? = nil
    ) {
        self.reason = reason
        self.offset = offset
        self.field = field
        self.value = value
        self.limit = limit
        self.line = line
        self.column = column
    }

    /// Allocates nothing.
    public static func == (lhs: DecodeError, rhs: DecodeError) -> Bool {
        lhs.reason == rhs.reason && lhs.offset == rhs.offset && lhs.value == rhs.value && lhs.limit == rhs.limit
            && lhs.fieldName == rhs.fieldName && lhs.line == rhs.line && lhs.column == rhs.column
    }

    /// Allocates nothing.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(reason)
        hasher.combine(offset)
    }

    /// The field name as a `String`, when known.
    public var fieldName: String? { field.map { "\($0)" } }

    /// A sentence for people: the reason, the field and the numbers involved.
    public var description: String {
        var text: String
        switch reason {
        case .truncatedVarint: text = "varint runs past the end of its message"
        case .varintTooLong: text = "varint longer than 10 bytes"
        case .tagTooLong:
            let length = value ?? 0
            text = length > 5 ? "field tag of \(length) bytes, where a tag has 5 at most" : "field tag past 32 bits"
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
        case .corruptZstd: text = "zstd data is corrupt or cut short"
        case .notUnary: text = "a gRPC Export call sent more than one message (Export is unary)"
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
        case .exportFailed where value != nil:
            // A network exporter's loss: `value` records, not bytes.
            text = "the next hop did not take these records after every retry"
        case .exportFailed: text = "the output failed after \(offset) bytes; these records were not written"
        case .rejectedDownstream:
            text = "the next hop refused these records (a 4xx answer or partial_success); they were not retried"
        case .interrupted:
            text = "reading stopped (SIGTERM/SIGINT) before this frame had arrived whole"
        default: text = reason.name
        }
        if let field { text += " (field \(field))" }
        if let line, let column { text += " at line \(line), column \(column)" }
        return text
    }
}
