/// Small hand-built requests for bad-input tests.
public enum RequestBuilders {
    /// A well-formed span named `name`.
    public static func span(name: String = "ok", traceByte: UInt8 = 1) -> [UInt8] {
        var span = ProtoBuilder()
        span.bytesField(1, Array(repeating: traceByte, count: 16))
        span.bytesField(2, Array(repeating: 2, count: 8))
        span.stringField(5, name)
        span.varintField(6, 2)
        span.fixed64Field(7, 1_700_000_000_000_000_000)
        span.fixed64Field(8, 1_700_000_000_100_000_000)
        return span.bytes
    }

    /// An `ExportTraceServiceRequest` with one resource and one scope holding `spans`.
    public static func traceRequest(spans: [[UInt8]]) -> [UInt8] {
        var request = ProtoBuilder()
        request.messageField(1) { entry in
            entry.messageField(1) { resource in
                resource.messageField(1) { pair in
                    pair.stringField(1, "service.name")
                    pair.messageField(2) { $0.stringField(1, "checkout") }
                }
            }
            entry.messageField(2) { scope in
                scope.messageField(1) { $0.stringField(1, "test") }
                for span in spans { scope.bytesField(2, span) }
            }
        }
        return request.bytes
    }

    /// A span whose single attribute holds `arrays` nested `ArrayValue`s; the innermost array
    /// holds one empty `AnyValue` when `innerValue` is true.
    public static func spanWithNestedArrays(_ arrays: Int, innerValue: Bool) -> [UInt8] {
        var value: [UInt8] = []  // AnyValue content
        var innermost = ProtoBuilder()
        if innerValue { innermost.bytesField(1, []) }
        var array = innermost.bytes
        for level in 0..<arrays {
            var any = ProtoBuilder()
            any.bytesField(5, array)
            value = any.bytes
            if level < arrays - 1 {
                var outer = ProtoBuilder()
                outer.bytesField(1, value)
                array = outer.bytes
            }
        }
        var span = ProtoBuilder(bytes: span(name: "deep"))
        span.messageField(9) { pair in
            pair.stringField(1, "deep")
            pair.bytesField(2, value)
        }
        return span.bytes
    }
}

extension ProtoBuilder {
    /// A builder that continues `bytes`.
    public init(bytes: [UInt8]) {
        self.init()
        raw(bytes)
    }
}
