package import TraplineCore

/// The few OTLP/HTTP messages a receiver writes and an exporter reads: export responses with
/// `partial_success`, and `google.rpc.Status` for refused requests, in protobuf or JSON.
package enum OTLPWire {
    /// The media types OTLP/HTTP defines.
    package enum MediaType: Equatable {
        case protobuf
        case json

        /// Parses a `Content-Type` value: type and subtype case-insensitively, parameters ignored.
        /// Read on every request, so on a `Substring` throughout: the reversed views this trimmed
        /// with ran as unspecialised generic code, a run-time type lookup a request.
        init?(contentType: String) {
            var essence = Substring(contentType)
            if let semicolon = essence.firstIndex(of: ";") { essence = essence[..<semicolon] }
            essence = essence.drop { $0 == " " || $0 == "\t" }
            while let last = essence.last, last == " " || last == "\t" { essence.removeLast() }
            switch essence.lowercased() {
            case "application/x-protobuf", "application/protobuf": self = .protobuf
            case "application/json": self = .json
            default: return nil
            }
        }

        var contentType: String { self == .protobuf ? "application/x-protobuf" : "application/json" }
    }

    /// `Export{Trace,Logs,Metrics}ServiceResponse`, with `partial_success` when records were rejected.
    package static func exportResponse(signal: Signal, rejected: Int, message: String?, as type: MediaType) -> [UInt8] {
        guard rejected > 0 || message != nil else { return type == .json ? Array("{}".utf8) : [] }
        let text = message ?? ""
        if type == .json {
            let key =
                switch signal {
                case .traces: "rejectedSpans"
                case .logs: "rejectedLogRecords"
                case .metrics: "rejectedDataPoints"
                }
            return Array(
                "{\"partialSuccess\":{\"\(key)\":\"\(rejected)\",\"errorMessage\":\(JSONQuoting.quoted(text))}}".utf8)
        }
        var inner: [UInt8] = []
        if rejected > 0 { ProtoAppender.appendVarintField(1, UInt64(rejected), to: &inner) }
        ProtoAppender.appendStringField(2, text, to: &inner)
        var response: [UInt8] = []
        inner.withUnsafeBytes { ProtoAppender.appendBytesField(1, $0, to: &response) }
        return response
    }

    /// `google.rpc.Status` (code 3, INVALID_ARGUMENT, for a request that cannot be read; other
    /// codes for refusals).
    package static func status(code: Int, message: String, as type: MediaType) -> [UInt8] {
        if type == .json { return Array("{\"code\":\(code),\"message\":\(JSONQuoting.quoted(message))}".utf8) }
        var bytes: [UInt8] = []
        ProtoAppender.appendVarintField(1, UInt64(code), to: &bytes)
        ProtoAppender.appendStringField(2, message, to: &bytes)
        return bytes
    }

    /// The records a downstream `partial_success` says it rejected (protobuf response).
    package static func rejectedCount(inResponse bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { bytes in
            do throws(DecodeError) {
                var response = WireReader(frame: bytes)
                while let (tag, _) = try response.nextField() {
                    guard tag.number == 1 && tag.wireType == .lengthDelimited else {
                        try response.skipField(tag, depth: 0, maxDepth: 4)
                        continue
                    }
                    var partial = response.subReader(try response.readLengthDelimited())
                    while let (field, _) = try partial.nextField() {
                        if field.number == 1 && field.wireType == .varint {
                            return Int(clamping: try partial.readVarint())
                        }
                        try partial.skipField(field, depth: 1, maxDepth: 4)
                    }
                    return 0
                }
            } catch {
                // A response that is not protobuf says nothing about rejections.
            }
            return 0
        }
    }
}

/// Inflates a compressed request body (HTTP) or message (gRPC), refusing to grow past `limit`
/// bytes while inflating.
package enum RequestInflater {
    /// The compressions requests come in: `Content-Encoding` gzip and zstd, and gRPC's
    /// `grpc-encoding` gzip, zstd and deflate (zlib).
    package enum Encoding: String, Sendable {
        case gzip
        case zstd
        case deflate
    }

    package enum Failure: Error {
        case tooLarge
        /// Why the body cannot be inflated (truncated, a failed check, trailing bytes, bad data).
        case corrupt(DecodeError)
    }

    package static func inflate(_ bytes: UnsafeRawBufferPointer, _ encoding: Encoding, limit: Int) throws(Failure)
        -> [UInt8]
    {
        do throws(DecodeError) {
            switch encoding {
            case .gzip: return try GzipBuffer.inflate(bytes, limit: limit)
            case .zstd: return try Zstd.decompress(bytes, limit: limit)
            case .deflate: return try Deflate.inflate(bytes, limit: limit)
            }
        } catch {
            if error.reason == .decompressedTooLarge { throw .tooLarge }
            throw .corrupt(error)
        }
    }
}
