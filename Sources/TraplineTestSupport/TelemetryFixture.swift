import Foundation
public import TraplineCore

/// Batches from readable OTLP JSON, and readable views of batches after stages ran: the views
/// come from encoding the batch as protobuf (copy-through and column encoding, as a sink does),
/// decoding that again and reading its OTLP JSON, so a test sees what a sink would write.
public enum TelemetryFixture {
    /// Decodes an OTLP JSON traces document.
    public static func spans(_ json: String) -> SpanBatch {
        var batch = SpanBatch()
        let input = InputBuffer(Array(json.utf8))
        OTLPJSONDecoder().decodeTraces(input: input, frame: 0..<input.bytes.count, sourceOffset: 0, into: &batch)
        precondition(batch.rejections.isEmpty, "fixture JSON has rejected records: \(batch.rejections.errors)")
        return batch
    }

    /// Decodes an OTLP JSON logs document.
    public static func logs(_ json: String) -> LogBatch {
        var batch = LogBatch()
        let input = InputBuffer(Array(json.utf8))
        OTLPJSONDecoder().decodeLogs(input: input, frame: 0..<input.bytes.count, sourceOffset: 0, into: &batch)
        precondition(batch.rejections.isEmpty, "fixture JSON has rejected records: \(batch.rejections.errors)")
        return batch
    }

    /// What a sink would write for `batch` with `mask`, read back as records.
    public static func view(_ batch: SpanBatch, mask: RowMask? = nil) -> [RecordView] {
        let writer = WireWriter()
        OTLPProtobufEncoder(framing: .none).encode(batch, keeping: mask, into: writer)
        var decoded = SpanBatch()
        let input = InputBuffer(copying: writer.bytes)
        OTLPProtobufDecoder().decodeTraces(input: input, frame: 0..<input.bytes.count, sourceOffset: 0, into: &decoded)
        precondition(decoded.rejections.isEmpty, "re-encoded batch does not decode: \(decoded.rejections.errors)")
        var json: [UInt8] = []
        OTLPJSONEncoder().encode(decoded, into: &json)
        return records(json, resources: "resourceSpans", scopes: "scopeSpans", records: "spans")
    }

    /// What a sink would write for `batch` with `mask`, read back as records.
    public static func view(_ batch: LogBatch, mask: RowMask? = nil) -> [RecordView] {
        let writer = WireWriter()
        OTLPProtobufEncoder(framing: .none).encode(batch, keeping: mask, into: writer)
        var decoded = LogBatch()
        let input = InputBuffer(copying: writer.bytes)
        OTLPProtobufDecoder().decodeLogs(input: input, frame: 0..<input.bytes.count, sourceOffset: 0, into: &decoded)
        precondition(decoded.rejections.isEmpty, "re-encoded batch does not decode: \(decoded.rejections.errors)")
        var json: [UInt8] = []
        OTLPJSONEncoder().encode(decoded, into: &json)
        return records(json, resources: "resourceLogs", scopes: "scopeLogs", records: "logRecords")
    }

    private static func records(_ json: [UInt8], resources: String, scopes: String, records: String) -> [RecordView] {
        guard let root = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any] else { return [] }
        var views: [RecordView] = []
        for resource in root[resources] as? [[String: Any]] ?? [] {
            let resourceBody = resource["resource"] as? [String: Any] ?? [:]
            let resourceAttributes = attributes(resourceBody["attributes"])
            for scope in resource[scopes] as? [[String: Any]] ?? [] {
                let scopeBody = scope["scope"] as? [String: Any] ?? [:]
                for record in scope[records] as? [[String: Any]] ?? [] {
                    var view = RecordView()
                    view.resourceAttributes = resourceAttributes
                    view.scopeName = scopeBody["name"] as? String ?? ""
                    view.scopeAttributes = attributes(scopeBody["attributes"])
                    view.name = record["name"] as? String ?? ""
                    view.attributes = attributes(record["attributes"])
                    view.events = (record["events"] as? [[String: Any]] ?? []).map { $0["name"] as? String ?? "" }
                    let status = record["status"] as? [String: Any] ?? [:]
                    view.statusCode = status["code"] as? Int ?? 0
                    view.statusMessage = status["message"] as? String ?? ""
                    view.kind = record["kind"] as? Int ?? 0
                    view.severityNumber = record["severityNumber"] as? Int ?? 0
                    view.severityText = record["severityText"] as? String ?? ""
                    view.body = (record["body"] as? [String: Any]).map(render) ?? ""
                    view.traceID = record["traceId"] as? String ?? ""
                    views.append(view)
                }
            }
        }
        return views
    }

    private static func attributes(_ value: Any?) -> [String: String] {
        var result: [String: String] = [:]
        for pair in value as? [[String: Any]] ?? [] {
            guard let key = pair["key"] as? String else { continue }
            result[key] = (pair["value"] as? [String: Any]).map(render) ?? ""
        }
        return result
    }

    /// An `AnyValue` as compact text: strings bare, lists `[a,b]`, maps `{k:v}` in key order.
    static func render(_ value: [String: Any]) -> String {
        if let text = value["stringValue"] as? String { return text }
        if let flag = value["boolValue"] as? Bool { return flag ? "true" : "false" }
        if let number = value["intValue"] { return "\(number)" }
        if let number = value["doubleValue"] { return "\(number)" }
        if let bytes = value["bytesValue"] as? String { return bytes }
        if let array = value["arrayValue"] as? [String: Any] {
            let items = array["values"] as? [[String: Any]] ?? []
            return "[" + items.map(render).joined(separator: ",") + "]"
        }
        if let map = value["kvlistValue"] as? [String: Any] {
            let rendered = attributes(map["values"])
            return "{" + rendered.keys.sorted().map { "\($0):\(rendered[$0]!)" }.joined(separator: ",") + "}"
        }
        return ""
    }
}

/// One span or log record as a sink wrote it, with its resource and scope.
public struct RecordView: Sendable, Equatable {
    public var name = ""
    public var attributes: [String: String] = [:]
    public var resourceAttributes: [String: String] = [:]
    public var scopeName = ""
    public var scopeAttributes: [String: String] = [:]
    public var events: [String] = []
    public var statusCode = 0
    public var statusMessage = ""
    public var kind = 0
    public var severityNumber = 0
    public var severityText = ""
    public var body = ""
    public var traceID = ""
}
