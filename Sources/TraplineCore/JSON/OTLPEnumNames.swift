/// OTLP enum value names by number, for JSON input that names them (lenient) and for people.
enum OTLPEnumNames {
    static let spanKind = [
        "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER",
        "SPAN_KIND_CONSUMER",
    ]
    static let statusCode = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"]
    static let severityNumber: [String] =
        ["SEVERITY_NUMBER_UNSPECIFIED"]
        + ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"].flatMap { level in
            ["SEVERITY_NUMBER_\(level)"] + (2...4).map { "SEVERITY_NUMBER_\(level)\($0)" }
        }
}
