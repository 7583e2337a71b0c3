import TraplineCore

/// The few OTLP/HTTP messages a receiver writes and an exporter reads: export responses with
/// `partial_success`, and `google.rpc.Status` for refused requests, in protobuf or JSON.
enum OTLPWire {
    /// The media types OTLP/HTTP defines.
    enum MediaType: Equatable {
        case protobuf
        case json

        /// Parses a `Content-Type` value: type and subtype case-insensitively, parameters ignored.
        init?(contentType: String) {
            let essence = contentType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
            let trimmed = essence.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }
                .reversed()
            switch String(trimmed).lowercased() {
            case "application/x-protobuf", "application/protobuf": self = .protobuf
            case "application/json": self = .json
            default: return nil
            }
        }

        var contentType: String { self == .protobuf ? "application/x-protobuf" : "application/json" }
    }

    /// `Export{Trace,Logs}ServiceResponse`, with `partial_success` when records were rejected.
    static func exportResponse(signal: Signal, rejected: Int, message: String?, as type: MediaType) -> [UInt8] {
        guard rejected > 0 || message != nil else { return type == .json ? Array("{}".utf8) : [] }
        let text = message ?? ""
        if type == .json {
            let key = signal == .traces ? "rejectedSpans" : "rejectedLogRecords"
            return Array(
                "{\"partialSuccess\":{\"\(key)\":\"\(rejected)\",\"errorMessage\":\(JSONQuoting.quoted(text))}}".utf8)
        }
        var inner: [UInt8] = []
        if rejected > 0 {
            inner.append(0x08)
            appendVarint(UInt64(rejected), to: &inner)
        }
        appendString(field: 2, text, to: &inner)
        var outer: [UInt8] = [0x0A]
        appendVarint(UInt64(inner.count), to: &outer)
        return outer + inner
    }

    /// `google.rpc.Status` (code 3, INVALID_ARGUMENT, for a request that cannot be read; other
    /// codes for refusals).
    static func status(code: Int, message: String, as type: MediaType) -> [UInt8] {
        if type == .json { return Array("{\"code\":\(code),\"message\":\(JSONQuoting.quoted(message))}".utf8) }
        var bytes: [UInt8] = [0x08]
        appendVarint(UInt64(code), to: &bytes)
        appendString(field: 2, message, to: &bytes)
        return bytes
    }

    /// The records a downstream `partial_success` says it rejected (protobuf response).
    static func rejectedCount(inResponse bytes: [UInt8]) -> Int {
        var reader = Reader(bytes: bytes)
        while let (field, wire) = reader.tag() {
            if field == 1 && wire == 2, let inner = reader.lengthDelimited() {
                var partial = Reader(bytes: inner)
                while let (innerField, innerWire) = partial.tag() {
                    if innerField == 1 && innerWire == 0 { return Int(partial.varint() ?? 0) }
                    guard partial.skip(innerWire) else { return 0 }
                }
                return 0
            }
            guard reader.skip(wire) else { return 0 }
        }
        return 0
    }

    private static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    private static func appendString(field: Int, _ text: String, to bytes: inout [UInt8]) {
        guard !text.isEmpty else { return }
        bytes.append(UInt8(field << 3 | 2))
        appendVarint(UInt64(text.utf8.count), to: &bytes)
        bytes.append(contentsOf: text.utf8)
    }

    /// A minimal protobuf reader for responses.
    private struct Reader {
        let bytes: [UInt8]
        var position = 0

        mutating func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while position < bytes.count && shift < 64 {
                let byte = bytes[position]
                position += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            return nil
        }

        mutating func tag() -> (Int, Int)? {
            guard position < bytes.count, let key = varint() else { return nil }
            return (Int(key >> 3), Int(key & 7))
        }

        mutating func lengthDelimited() -> [UInt8]? {
            guard let length = varint(), Int(length) <= bytes.count - position else { return nil }
            defer { position += Int(length) }
            return Array(bytes[position..<position + Int(length)])
        }

        mutating func skip(_ wire: Int) -> Bool {
            switch wire {
            case 0: return varint() != nil
            case 1: position += 8
            case 2: return lengthDelimited() != nil
            case 5: position += 4
            default: return false
            }
            return position <= bytes.count
        }
    }
}

/// Inflates a gzip request body, refusing to grow past `limit` bytes while inflating.
enum RequestInflater {
    enum Failure: Error {
        case tooLarge
        /// Why the body cannot be inflated (truncated, a failed check, trailing bytes, bad data).
        case corrupt(DecodeError)
    }

    static func gunzip(_ bytes: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        do throws(DecodeError) {
            return try GzipBuffer.inflate(bytes, limit: limit)
        } catch {
            if error.reason == .decompressedTooLarge { throw .tooLarge }
            throw .corrupt(error)
        }
    }
}
