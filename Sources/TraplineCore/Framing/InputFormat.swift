/// How input bytes are laid out. Detected from the bytes (never the file name) unless given.
public enum InputFormat: String, Sendable, CaseIterable {
    /// Detect from the first bytes.
    case auto
    /// One OTLP protobuf export request (an OTLP/HTTP body).
    case otlpProto = "otlp-proto"
    /// OTLP protobuf requests, each after a varint length.
    case otlpProtoVarintDelimited = "otlp-proto-varint"
    /// OTLP protobuf requests, each after a 4-byte big-endian length (the Collector's file
    /// exporter with `format: proto`).
    case otlpProtoLengthPrefixed = "otlp-proto-length-prefixed"
    /// OTLP JSON (detected; decoding comes later).
    case otlpJSON = "otlp-json"
    /// Plain text, one log record per line.
    case text
}

/// Which OTLP signal a protobuf request carries.
public enum Signal: String, Sendable, CaseIterable {
    /// `ExportTraceServiceRequest`: spans.
    case traces
    /// `ExportLogsServiceRequest`: log records.
    case logs
}
