/// One rejected piece of input, as the rejection ledger keeps it and reports show it.
public struct Rejection: Hashable, Sendable {
    /// The input it came from: a path, `-` for stdin, or a receiver name.
    public var source: String
    /// What was wrong and where.
    public var error: DecodeError
    /// How many records this rejection accounts for. A region that could not be delimited
    /// (a broken frame or container) counts as one record, since its true count is unknowable.
    public var records: Int

    /// Makes a rejection. Allocates nothing.
    public init(source: String, error: DecodeError, records: Int) {
        self.source = source
        self.error = error
        self.records = records
    }
}

extension Rejection {
    /// Why a piece of input was rejected: bad bytes (a decode error), a failed rule, a refused
    /// request, a failed output. Extensible: new reasons are new static members.
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        /// A stable snake_case name, used as the `reason` in reports and metric labels.
        public let name: String

        /// Makes a reason; only this module defines new ones.
        init(_ name: String) { self.name = name }

        public var description: String { name }

        /// A varint ran off the end of its message.
        public static let truncatedVarint = Reason("truncated_varint")
        /// A varint longer than 10 bytes.
        public static let varintTooLong = Reason("varint_too_long")
        /// A field tag longer than 5 bytes, or whose value does not fit in 32 bits.
        public static let tagTooLong = Reason("tag_too_long")
        /// A fixed 32/64-bit value ran off the end of its message.
        public static let truncatedFixed = Reason("truncated_fixed")
        /// A length-delimited field claims more bytes than its enclosing message has left.
        public static let lengthPastEnd = Reason("length_past_end")
        /// Wire type 6 or 7, which protobuf does not define.
        public static let invalidWireType = Reason("invalid_wire_type")
        /// Field number 0, which protobuf forbids.
        public static let fieldNumberZero = Reason("field_number_zero")
        /// A known field arrived with a wire type its schema does not allow.
        public static let wrongWireType = Reason("wrong_wire_type")
        /// An end-group tag with no matching start, or a group never closed.
        public static let unbalancedGroup = Reason("unbalanced_group")
        /// Messages or values nested deeper than the limit (100).
        public static let nestingTooDeep = Reason("nesting_too_deep")
        /// A `string` field that is not valid UTF-8.
        public static let invalidUTF8 = Reason("invalid_utf8")
        /// A trace id not 16 bytes, or a span id not 8 bytes (empty is allowed: it means unset).
        public static let invalidIDLength = Reason("invalid_id_length")
        /// A resource or scope of this record was rejected, so the record cannot be kept.
        public static let invalidParent = Reason("invalid_parent")
        /// A stream frame whose length prefix runs past the end of the input.
        public static let truncatedFrame = Reason("truncated_frame")
        /// A frame larger than the configured limit.
        public static let frameTooLarge = Reason("frame_too_large")
        /// A file that became shorter while it was read (another process truncated it): the
        /// frames past its new end are gone.
        public static let inputShrank = Reason("input_shrank")
        /// A protobuf request whose records are neither spans nor log records.
        public static let unknownSignal = Reason("unknown_signal")
        /// gzip data that zlib cannot inflate (a bad header or bad compressed data); `value`: the
        /// compressed offset of the member.
        public static let corruptGzip = Reason("corrupt_gzip")
        /// gzip input that ends inside a member (cut short).
        public static let gzipTruncated = Reason("gzip_truncated")
        /// A gzip member whose CRC-32 or length does not match its data: none of it is used.
        public static let gzipChecksumMismatch = Reason("gzip_checksum_mismatch")
        /// Bytes after the last gzip member that are neither a member nor zero padding.
        public static let gzipTrailingGarbage = Reason("gzip_trailing_garbage")
        /// A zstd body (`Content-Encoding: zstd`) libzstd cannot decompress, or one that ends
        /// inside a frame; `offset`: where in the compressed bytes.
        public static let corruptZstd = Reason("corrupt_zstd")
        /// A gRPC `Export` call (unary) that sent more than one message: refused unread.
        public static let notUnary = Reason("not_unary")
        /// Decompressed output past the configured cap.
        public static let decompressedTooLarge = Reason("decompressed_too_large")
        /// A compression format Trapline does not read from files or stdin (zstd).
        public static let unsupportedCompression = Reason("unsupported_compression")
        /// A request whose media type a receiver does not take (OTLP/HTTP: protobuf or JSON).
        public static let unsupportedMediaType = Reason("unsupported_media_type")
        /// Bytes that are not JSON (a syntax error); what follows in the same value is lost.
        public static let invalidJSON = Reason("invalid_json")
        /// A JSON value of the wrong type for its field (a string where an object belongs …).
        public static let wrongJSONType = Reason("wrong_json_type")
        /// An id that is not hexadecimal (odd length, base64, other characters).
        public static let invalidHexID = Reason("invalid_hex_id")
        /// A number that does not fit its field: a fraction or exponent for an integer, out of range.
        public static let invalidNumber = Reason("invalid_number")
        /// A `\u` escape naming half of a UTF-16 surrogate pair without the other half.
        public static let loneSurrogate = Reason("lone_surrogate")
        /// `bytesValue` that is not base64.
        public static let invalidBase64 = Reason("invalid_base64")
        /// An enum name that is not one of the field's values.
        public static let unknownEnumName = Reason("unknown_enum_name")
        /// OTLP JSON of a signal Trapline does not process (metrics, profiles).
        public static let unsupportedSignal = Reason("unsupported_signal")
        /// A processor's rule failed under `error_mode: propagate`, so the processor refused
        /// the records of the frame (the Collector drops the payload).
        public static let ruleError = Reason("rule_error")
        /// Records of a signal that no pipeline takes (a traces-only pipeline file replaying
        /// logs): nothing would export them, so they are not counted as forwarded.
        public static let noPipeline = Reason("no_pipeline")
        /// Records an exporter could not write (the output failed: disk full, a closed pipe …).
        /// `offset` is the bytes the output took before it failed.
        public static let exportFailed = Reason("export_failed")
        /// Records a network exporter's next hop refused (a 4xx answer, or `partial_success`):
        /// sent, not retried, not delivered.
        public static let rejectedDownstream = Reason("rejected_downstream")
        /// A frame cut off by a stop (SIGTERM, SIGINT) before it had arrived whole: not damaged
        /// input, so it does not make the exit status say so.
        public static let interrupted = Reason("interrupted")

        /// Every code, so metric families can be declared once, before any input is seen.
        public static let all: [Reason] = [
            .truncatedVarint, .varintTooLong, .tagTooLong, .truncatedFixed, .lengthPastEnd, .invalidWireType,
            .fieldNumberZero,
            .wrongWireType, .unbalancedGroup, .nestingTooDeep, .invalidUTF8, .invalidIDLength, .invalidParent,
            .truncatedFrame, .frameTooLarge, .inputShrank, .unknownSignal, .corruptGzip, .gzipTruncated,
            .gzipChecksumMismatch, .gzipTrailingGarbage, .corruptZstd, .notUnary, .decompressedTooLarge,
            .unsupportedCompression, .unsupportedMediaType, .invalidJSON, .wrongJSONType, .invalidHexID, .invalidNumber,
            .loneSurrogate,
            .invalidBase64, .unknownEnumName, .unsupportedSignal, .ruleError, .noPipeline, .exportFailed,
            .rejectedDownstream, .interrupted,
        ]
    }
}

/// Rejections recorded while decoding one batch, before the source name is attached.
///
/// Kept by the batch and reused with it, so recording a rejection does not allocate once the
/// batch has seen one.
public struct BatchRejections: Sendable {
    /// The errors, in input order.
    public private(set) var errors: [DecodeError] = []
    /// Records accounted for by each error (same indices as `errors`).
    public private(set) var recordCounts: [Int] = []

    /// Makes an empty list. Allocates nothing.
    public init() {}

    /// Total records rejected.
    public var recordCount: Int { recordCounts.reduce(0, +) }

    /// Whether nothing was rejected.
    public var isEmpty: Bool { errors.isEmpty }

    /// Records one rejection. Allocates only when the list grows (once per batch at most, in practice).
    public mutating func append(_ error: DecodeError, records: Int) {
        errors.append(error)
        recordCounts.append(records)
    }

    /// Empties the list, keeping its storage. Keeps the capacity; allocates nothing.
    public mutating func removeAll() {
        errors.removeAll(keepingCapacity: true)
        recordCounts.removeAll(keepingCapacity: true)
    }
}
