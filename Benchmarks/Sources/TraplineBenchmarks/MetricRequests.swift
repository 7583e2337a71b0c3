/// Metrics requests shaped like an instrumented service's export, built for the metrics
/// decode figure: per request 2 resources of 12 attributes, 2 scopes each, and per scope
/// sums, gauges, explicit histograms (16 buckets), exponential histograms and summaries, 4
/// data points each with 4 attributes and, on histograms, an exemplar.
struct MetricRequestBuilder {
    private var state: UInt64 = 0x9E37_79B9_7F4A_7C15

    private mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 33
    }

    /// `count` requests, each as its protobuf bytes.
    mutating func requests(_ count: Int) -> [[UInt8]] { (0..<count).map { _ in request() } }

    private mutating func request() -> [UInt8] {
        var out: [UInt8] = []
        for resource in 0..<2 {
            field(1, into: &out) { resourceMetrics in
                field(1, into: &resourceMetrics) { body in
                    for index in 0..<12 {
                        attribute(
                            1, "resource.attr.\(index)", "value-\(resource)-\(index)-\(next() % 100)", into: &body)
                    }
                }
                for scope in 0..<2 {
                    field(2, into: &resourceMetrics) { scopeMetrics in
                        field(1, into: &scopeMetrics) { body in
                            string(1, "io.opentelemetry.instrumentation.\(scope)", into: &body)
                            string(2, "2.10.0", into: &body)
                        }
                        for type: UInt32 in [7, 5, 9, 10, 11] { metric(type, into: &scopeMetrics) }
                    }
                }
            }
        }
        return out
    }

    private mutating func metric(_ type: UInt32, into out: inout [UInt8]) {
        field(2, into: &out) { metric in
            string(1, "http.server.request.duration.\(type)", into: &metric)
            string(2, "Duration of HTTP server requests.", into: &metric)
            string(3, "s", into: &metric)
            field(type, into: &metric) { data in
                for _ in 0..<4 { point(type, into: &data) }
                if type != 5 && type != 11 { tag(2, 0, into: &data); varint(2, into: &data) }
            }
        }
    }

    private mutating func point(_ type: UInt32, into out: inout [UInt8]) {
        field(1, into: &out) { point in
            let attributesField: UInt32 = type == 9 ? 9 : type == 10 ? 1 : 7
            attribute(attributesField, "http.request.method", ["GET", "POST", "PUT"][Int(next() % 3)], into: &point)
            attribute(attributesField, "http.route", "/api/v1/items/{id}", into: &point)
            attribute(attributesField, "http.response.status_code", "\(200 + next() % 4 * 100)", into: &point)
            attribute(attributesField, "server.address", "checkout.shop.svc", into: &point)
            fixed64(2, 1_733_500_000_000_000_000 + next(), into: &point)
            fixed64(3, 1_733_500_060_000_000_000 + next(), into: &point)
            switch type {
            case 5, 7: fixed64(type == 5 ? 4 : 6, next(), into: &point)
            case 9:
                fixed64(4, next() % 10_000, into: &point)
                fixed64(5, Double(next() % 1000).bitPattern, into: &point)
                packedFixed64(6, (0..<16).map { _ in next() % 500 }, into: &point)
                packedFixed64(7, (0..<15).map { Double($0) * 0.025 }.map(\.bitPattern), into: &point)
                exemplar(8, into: &point)
                fixed64(11, 0.0005.bitPattern, into: &point)
                fixed64(12, 2.5.bitPattern, into: &point)
            case 10:
                fixed64(4, next() % 10_000, into: &point)
                tag(6, 0, into: &point)
                varint(UInt64(UInt32(bitPattern: 3 << 1)), into: &point)
                field(8, into: &point) { buckets in
                    tag(1, 0, into: &buckets)
                    varint(4, into: &buckets)
                    field(2, into: &buckets) { counts in for _ in 0..<20 { varint(next() % 300, into: &counts) } }
                }
                exemplar(11, into: &point)
            default:
                fixed64(4, next() % 10_000, into: &point)
                fixed64(5, Double(next() % 1000).bitPattern, into: &point)
                for quantile in [0.5, 0.9, 0.99] {
                    field(6, into: &point) { value in
                        fixed64(1, quantile.bitPattern, into: &value)
                        fixed64(2, Double(next() % 100).bitPattern, into: &value)
                    }
                }
            }
        }
    }

    private mutating func exemplar(_ number: UInt32, into out: inout [UInt8]) {
        field(number, into: &out) { exemplar in
            attribute(7, "user.id", "u-\(next() % 1000)", into: &exemplar)
            fixed64(2, 1_733_500_030_000_000_000, into: &exemplar)
            fixed64(3, Double(next() % 100).bitPattern, into: &exemplar)
            bytes(4, (0..<8).map { _ in UInt8(truncatingIfNeeded: next()) }, into: &exemplar)
            bytes(5, (0..<16).map { _ in UInt8(truncatingIfNeeded: next()) }, into: &exemplar)
        }
    }
}

// Protobuf by hand: the benchmark package sees only the library's public API.
private func varint(_ value: UInt64, into out: inout [UInt8]) {
    var value = value
    while value >= 0x80 {
        out.append(UInt8(value & 0x7F) | 0x80)
        value >>= 7
    }
    out.append(UInt8(value))
}

private func tag(_ number: UInt32, _ wireType: UInt64, into out: inout [UInt8]) {
    varint(UInt64(number) << 3 | wireType, into: &out)
}

private func field(_ number: UInt32, into out: inout [UInt8], _ body: (inout [UInt8]) -> Void) {
    var inner: [UInt8] = []
    body(&inner)
    bytes(number, inner, into: &out)
}

private func bytes(_ number: UInt32, _ content: [UInt8], into out: inout [UInt8]) {
    tag(number, 2, into: &out)
    varint(UInt64(content.count), into: &out)
    out += content
}

private func string(_ number: UInt32, _ text: String, into out: inout [UInt8]) {
    bytes(number, Array(text.utf8), into: &out)
}

private func fixed64(_ number: UInt32, _ value: UInt64, into out: inout [UInt8]) {
    tag(number, 1, into: &out)
    withUnsafeBytes(of: value.littleEndian) { out += $0 }
}

private func packedFixed64(_ number: UInt32, _ values: [UInt64], into out: inout [UInt8]) {
    var content: [UInt8] = []
    for value in values { withUnsafeBytes(of: value.littleEndian) { content += $0 } }
    bytes(number, content, into: &out)
}

private func attribute(_ number: UInt32, _ key: String, _ value: String, into out: inout [UInt8]) {
    field(number, into: &out) { keyValue in
        string(1, key, into: &keyValue)
        field(2, into: &keyValue) { string(1, value, into: &$0) }
    }
}
