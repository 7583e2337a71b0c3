/// Generates valid OTLP export requests with every field the schema has, in varied shapes:
/// optional fields present or not, all `AnyValue` kinds with nested arrays and lists, unknown
/// fields, fields out of number order, repeated `status`, empty messages. Deterministic by seed.
public struct RequestGenerator {
    private var random: SeededRandom

    /// Makes a generator.
    public init(seed: UInt64) { random = SeededRandom(seed: seed) }

    /// One `ExportTraceServiceRequest`.
    public mutating func traceRequest(maxResources: Int = 3, maxSpans: Int = 6) -> [UInt8] {
        request(maxResources: maxResources, maxRecords: maxSpans) { builder, generator in generator.span(&builder) }
    }

    /// One `ExportLogsServiceRequest`.
    public mutating func logsRequest(maxResources: Int = 3, maxRecords: Int = 6) -> [UInt8] {
        request(maxResources: maxResources, maxRecords: maxRecords) { builder, generator in
            generator.logRecord(&builder)
        }
    }

    private mutating func request(
        maxResources: Int, maxRecords: Int, record: (inout ProtoBuilder, inout RequestGenerator) -> Void
    ) -> [UInt8] {
        var request = ProtoBuilder()
        for _ in 0..<Int.random(in: 0...maxResources, using: &random) {
            var entry = ProtoBuilder()
            if random.chance(85) { entry.bytesField(1, resource()) }
            for _ in 0..<Int.random(in: 0...2, using: &random) {
                var scopeEntry = ProtoBuilder()
                if random.chance(80) { scopeEntry.bytesField(1, scope()) }
                for _ in 0..<Int.random(in: 0...maxRecords, using: &random) {
                    var item = ProtoBuilder()
                    record(&item, &self)
                    scopeEntry.bytesField(2, item.bytes)
                }
                if random.chance(30) {
                    scopeEntry.stringField(3, "https://opentelemetry.io/schemas/1.\(random.next() % 30).0")
                }
                entry.bytesField(2, scopeEntry.bytes)
            }
            if random.chance(40) { entry.stringField(3, "https://opentelemetry.io/schemas/1.21.0") }
            if random.chance(5) { unknownField(&entry) }
            request.bytesField(1, entry.bytes)
        }
        return request.bytes
    }

    private mutating func text() -> String {
        random.pick([
            "", "GET /api/v1/orders", "db.query", "checkout", "ünïcödé ✓", "x", "service.name", "κλειδί", "🚀 launch",
        ])
    }

    private mutating func id(_ length: Int) -> [UInt8] {
        var bytes = random.bytes(length)
        bytes[0] |= 1  // never all zero: an all-zero id means unset
        return bytes
    }

    private mutating func anyValue(depth: Int) -> [UInt8] {
        var value = ProtoBuilder()
        let kinds = depth > 3 ? 5 : 7
        switch Int.random(in: 0...kinds, using: &random) {
        case 0: value.stringField(1, text())
        case 1: value.varintField(2, random.chance(50) ? 1 : 0)
        case 2: value.varintField(3, random.next() >> UInt64.random(in: 0...63, using: &random))
        case 3: value.fixed64Field(4, random.pick([0.0, -1.5, 3.25, 1e300, .infinity]).bitPattern)
        case 4: value.bytesField(7, random.bytes(Int.random(in: 0...9, using: &random)))
        case 5: break  // AnyValue with no case set
        case 6:
            value.messageField(5) { array in
                for _ in 0..<Int.random(in: 0...3, using: &random) { array.bytesField(1, anyValue(depth: depth + 1)) }
            }
        default:
            value.messageField(6) { list in
                for _ in 0..<Int.random(in: 0...3, using: &random) { list.bytesField(1, keyValue(depth: depth + 1)) }
            }
        }
        return value.bytes
    }

    private mutating func keyValue(depth: Int = 0) -> [UInt8] {
        var pair = ProtoBuilder()
        if random.chance(95) {
            pair.stringField(
                1, random.pick(["http.method", "http.status_code", "k8s.pod.name", "peer.service", "error", ""]))
        }
        if random.chance(93) { pair.bytesField(2, anyValue(depth: depth)) }
        if random.chance(3) { pair.varintField(3, UInt64(random.next() % 100)) }  // key_strindex
        return pair.bytes
    }

    private mutating func attributes(_ field: UInt32, into builder: inout ProtoBuilder) {
        for _ in 0..<Int.random(in: 0...4, using: &random) { builder.bytesField(field, keyValue()) }
    }

    private mutating func resource() -> [UInt8] {
        var resource = ProtoBuilder()
        attributes(1, into: &resource)
        if random.chance(20) { resource.varintField(2, UInt64(random.next() % 1000)) }
        if random.chance(15) {
            resource.messageField(3) { ref in
                ref.stringField(1, "https://opentelemetry.io/schemas/1.26.0")
                ref.stringField(2, "service")
                ref.stringField(3, "service.name")
                ref.stringField(4, "service.version")
            }
        }
        return resource.bytes
    }

    private mutating func scope() -> [UInt8] {
        var scope = ProtoBuilder()
        if random.chance(80) { scope.stringField(1, random.pick(["io.opentelemetry.http", "trapline", ""])) }
        if random.chance(60) { scope.stringField(2, "1.\(random.next() % 40).0") }
        attributes(3, into: &scope)
        if random.chance(10) { scope.varintField(4, 3) }
        return scope.bytes
    }

    private mutating func unknownField(_ builder: inout ProtoBuilder) {
        let field = UInt32.random(in: 100...5000, using: &random)
        switch random.next() % 4 {
        case 0: builder.varintField(field, random.next())
        case 1: builder.fixed64Field(field, random.next())
        case 2: builder.fixed32Field(field, UInt32(truncatingIfNeeded: random.next()))
        default: builder.bytesField(field, random.bytes(5))
        }
    }

    mutating func span(_ span: inout ProtoBuilder) {
        // Fields are emitted in a shuffled order: decoders must not rely on number order.
        var fields: [(inout ProtoBuilder, inout RequestGenerator) -> Void] = []
        if random.chance(95) { fields.append { b, g in b.bytesField(1, g.id(16)) } }
        if random.chance(95) { fields.append { b, g in b.bytesField(2, g.id(8)) } }
        if random.chance(20) { fields.append { b, _ in b.stringField(3, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7") } }
        if random.chance(60) { fields.append { b, g in b.bytesField(4, g.random.chance(10) ? [] : g.id(8)) } }
        if random.chance(90) { fields.append { b, g in b.stringField(5, g.text()) } }
        if random.chance(80) { fields.append { b, g in b.varintField(6, UInt64(g.random.next() % 6)) } }
        if random.chance(90) {
            fields.append { b, g in b.fixed64Field(7, 1_700_000_000_000_000_000 + g.random.next() % 1_000_000_000) }
        }
        if random.chance(90) {
            fields.append { b, g in b.fixed64Field(8, 1_700_000_001_000_000_000 + g.random.next() % 1_000_000_000) }
        }
        fields.append { b, g in g.attributes(9, into: &b) }
        if random.chance(10) { fields.append { b, _ in b.varintField(10, 2) } }
        for _ in 0..<Int.random(in: 0...2, using: &random) {
            fields.append { b, g in
                b.messageField(11) { event in
                    if g.random.chance(90) { event.fixed64Field(1, 1_700_000_000_500_000_000) }
                    event.stringField(2, g.text())
                    g.attributes(3, into: &event)
                    if g.random.chance(10) { event.varintField(4, 1) }
                }
            }
        }
        if random.chance(10) { fields.append { b, _ in b.varintField(12, 7) } }
        for _ in 0..<Int.random(in: 0...2, using: &random) {
            fields.append { b, g in
                b.messageField(13) { link in
                    link.bytesField(1, g.id(16))
                    link.bytesField(2, g.id(8))
                    if g.random.chance(30) { link.stringField(3, "vendor=value") }
                    g.attributes(4, into: &link)
                    if g.random.chance(10) { link.varintField(5, 4) }
                    if g.random.chance(30) { link.fixed32Field(6, 0x301) }
                }
            }
        }
        if random.chance(10) { fields.append { b, _ in b.varintField(14, 1) } }
        if random.chance(60) {
            fields.append { b, g in
                b.messageField(15) { status in
                    if g.random.chance(50) { status.stringField(2, g.text()) }
                    if g.random.chance(70) { status.varintField(3, UInt64(g.random.next() % 3)) }
                }
            }
        }
        if random.chance(40) { fields.append { b, g in b.fixed32Field(16, UInt32(g.random.next() % 0x400)) } }
        if random.chance(5) { fields.append { b, g in g.unknownField(&b) } }
        fields.shuffle(using: &random)
        for field in fields { field(&span, &self) }
    }

    mutating func logRecord(_ record: inout ProtoBuilder) {
        var fields: [(inout ProtoBuilder, inout RequestGenerator) -> Void] = []
        if random.chance(80) {
            fields.append { b, g in b.fixed64Field(1, 1_700_000_000_000_000_000 + g.random.next() % 1_000_000) }
        }
        if random.chance(70) { fields.append { b, g in b.varintField(2, UInt64(g.random.next() % 25)) } }
        if random.chance(60) {
            fields.append { b, g in b.stringField(3, g.random.pick(["INFO", "WARN", "ERROR", ""])) }
        }
        if random.chance(85) { fields.append { b, g in b.bytesField(5, g.anyValue(depth: 0)) } }
        fields.append { b, g in g.attributes(6, into: &b) }
        if random.chance(10) { fields.append { b, _ in b.varintField(7, 5) } }
        if random.chance(30) { fields.append { b, _ in b.fixed32Field(8, 1) } }
        if random.chance(40) { fields.append { b, g in b.bytesField(9, g.random.chance(10) ? [] : g.id(16)) } }
        if random.chance(40) { fields.append { b, g in b.bytesField(10, g.id(8)) } }
        if random.chance(70) {
            fields.append { b, g in b.fixed64Field(11, 1_700_000_000_000_000_100 + g.random.next() % 1_000) }
        }
        if random.chance(20) { fields.append { b, _ in b.stringField(12, "browser.page_view") } }
        if random.chance(5) { fields.append { b, g in g.unknownField(&b) } }
        fields.shuffle(using: &random)
        for field in fields { field(&record, &self) }
    }

    /// A damaged copy of `bytes`: flipped bytes, a cut, an inserted run, or a changed length.
    public mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
        guard !bytes.isEmpty else { return random.bytes(Int.random(in: 1...8, using: &random)) }
        var copy = bytes
        switch random.next() % 4 {
        case 0:
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                copy[Int.random(in: 0..<copy.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
        case 1:
            copy.removeSubrange(Int.random(in: 0..<copy.count, using: &random)...)
        case 2:
            copy.insert(
                contentsOf: random.bytes(Int.random(in: 1...4, using: &random)),
                at: Int.random(in: 0...copy.count, using: &random))
        default:
            let index = Int.random(in: 0..<copy.count, using: &random)
            copy[index] = copy[index] &+ UInt8.random(in: 1...3, using: &random)
        }
        return copy
    }
}
