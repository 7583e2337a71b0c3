import GRPCCore
@_spi(Plumbing) import Trapline
import TraplineCore
@_spi(Plumbing) import TraplineServer

/// gRPC messages as bytes for the `otlp` exporter's client (no generated message type, no
/// per-field work in gRPC): requests as the bytes Trapline wrote, responses as they came.
/// Bytes out as they are (a response Trapline wrote, a request it forwards).
struct RawBytesSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
}

/// Bytes in as they are (a next hop's response).
struct RawBytesDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

/// The OTLP collector services (`TraceService`, `LogsService`, `MetricsService` `Export`) of one
/// `otlp` receiver: what its calls go through (the sidecar's shared admission and pipeline) and
/// the limits they are held to.
struct OTLPGRPCService: Sendable {
    let sidecar: Sidecar
    /// The signals with a pipeline; a call for another is answered `UNIMPLEMENTED`.
    let signals: Set<Signal>
    let source: String
    /// `max_recv_msg_size_mib` in bytes.
    let maxMessageBytes: Int
    /// The `authorization` metadata calls must carry (`bearertokenauth`), if any.
    let authorization: String?

    /// The fully qualified service of each signal, as `opentelemetry/proto/collector/*` declares it.
    static let services: [(Signal, String)] = [
        (.traces, "opentelemetry.proto.collector.trace.v1.TraceService"),
        (.logs, "opentelemetry.proto.collector.logs.v1.LogsService"),
        (.metrics, "opentelemetry.proto.collector.metrics.v1.MetricsService"),
    ]

    /// Each signal's `Export` method as a request names it (`/service/method`).
    static let exportPaths: [(path: String, signal: Signal)] = services.map { ("/" + $0.1 + "/Export", $0.0) }

    /// The signal whose `Export` method a request path names, if any.
    static func signal(path: String) -> Signal? {
        exportPaths.first { $0.path == path }?.signal
    }
}

/// `google.rpc.Status` with a `google.rpc.RetryInfo` detail, for the `grpc-status-details-bin`
/// trailer (written by hand: three small messages, no generated code).
enum GRPCStatusDetails {
    static func retryInfo(code: Int, message: String, retryDelaySeconds: Int) -> [UInt8] {
        var duration: [UInt8] = []
        ProtoAppender.appendVarintField(1, UInt64(retryDelaySeconds), to: &duration)
        var retryInfo: [UInt8] = []
        duration.withUnsafeBytes { ProtoAppender.appendBytesField(1, $0, to: &retryInfo) }
        var any: [UInt8] = []
        ProtoAppender.appendStringField(1, "type.googleapis.com/google.rpc.RetryInfo", to: &any)
        retryInfo.withUnsafeBytes { ProtoAppender.appendBytesField(2, $0, to: &any) }
        var status: [UInt8] = []
        ProtoAppender.appendVarintField(1, UInt64(code), to: &status)
        ProtoAppender.appendStringField(2, message, to: &status)
        any.withUnsafeBytes { ProtoAppender.appendBytesField(3, $0, to: &status) }
        return status
    }

    /// The `RetryInfo` delay in a `google.rpc.Status`, in seconds; nil when there is none or the
    /// bytes are not such a status.
    static func retryDelaySeconds(in status: [UInt8]) -> Double? {
        status.withUnsafeBytes { bytes -> Double? in
            do throws(DecodeError) {
                var reader = WireReader(frame: bytes)
                while let (tag, _) = try reader.nextField() {
                    guard tag.number == 3 && tag.wireType == .lengthDelimited else {
                        try reader.skipField(tag, depth: 0, maxDepth: 8)
                        continue
                    }
                    var any = reader.subReader(try reader.readLengthDelimited())
                    var isRetryInfo = false
                    var value: WireReader?
                    while let (field, _) = try any.nextField() {
                        if field.number == 1 && field.wireType == .lengthDelimited {
                            let name = try any.readLengthDelimited()
                            isRetryInfo = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[name]), as: UTF8.self)
                                .hasSuffix("google.rpc.RetryInfo")
                        } else if field.number == 2 && field.wireType == .lengthDelimited {
                            value = any.subReader(try any.readLengthDelimited())
                        } else {
                            try any.skipField(field, depth: 1, maxDepth: 8)
                        }
                    }
                    guard isRetryInfo, var retryInfo = value else { continue }
                    while let (field, _) = try retryInfo.nextField() {
                        guard field.number == 1 && field.wireType == .lengthDelimited else {
                            try retryInfo.skipField(field, depth: 2, maxDepth: 8)
                            continue
                        }
                        var duration = retryInfo.subReader(try retryInfo.readLengthDelimited())
                        var seconds = 0.0
                        while let (part, _) = try duration.nextField() {
                            switch (part.number, part.wireType) {
                            case (1, .varint): seconds += Double(Int64(bitPattern: try duration.readVarint()))
                            case (2, .varint):
                                seconds += Double(Int32(truncatingIfNeeded: try duration.readVarint())) / 1e9
                            default: try duration.skipField(part, depth: 3, maxDepth: 8)
                            }
                        }
                        return max(0, seconds)
                    }
                }
            } catch {
                // Not a status: no delay to honour.
            }
            return nil
        }
    }
}

enum GRPCReceiverError: Error, CustomStringConvertible {
    case badEndpoint(String)

    var description: String {
        switch self {
        case .badEndpoint(let text): "'\(text)' is not host:port"
        }
    }
}
