/// What a load balancer routes a request's records by (the Collector's `routing_key`).
public enum OTLPRoutingKey: String, Sendable, CaseIterable {
    /// Each span (or log record) by its trace id: a trace stays on one backend.
    case traceID
    /// Each resource by its `service.name`.
    case service
    /// Each resource by all of its attributes (order does not matter).
    case resource
    /// Each metric by its name.
    case metric
    /// Each metric data point by its stream: resource, scope, metric name and point attributes.
    case streamID

    /// The signals it can route.
    public var signals: Set<Signal> {
        switch self {
        case .traceID: [.traces, .logs]
        case .service, .resource: [.traces, .logs, .metrics]
        case .metric, .streamID: [.metrics]
        }
    }
}

/// Splits one bare OTLP export request into one request per destination by a routing key,
/// without decoding it: the records keep their bytes, and each part repeats the resource and
/// scope (and, for data points, the metric) around the records routed with it. What is routed
/// whole (a resource by `service`, a metric by name) is copied as it is.
///
/// Allocates the parts' bytes and a few small arrays per request; nothing per record.
package enum OTLPRequestSplitter {
    /// One destination's share of a request.
    package struct Part: Sendable {
        /// A bare export request, empty when nothing was routed here.
        package var body: [UInt8] = []
        /// Records in it (spans, log records or data points).
        package var records = 0
    }

    /// The parts of `request` for `destinations` destinations.
    ///
    /// - Parameter route: the destination (`0..<destinations`) of an identity: a trace id's 16
    ///   bytes (empty for a log record without one), a service name, or an 8-byte digest of a
    ///   resource's attributes or a stream.
    /// - Throws: `DecodeError` when the bytes are not a well-formed request.
    package static func split(
        _ request: UnsafeRawBufferPointer, signal: Signal, key: OTLPRoutingKey, destinations: Int,
        route: (UnsafeRawBufferPointer) -> Int
    ) throws(DecodeError) -> [Part] {
        var splitter = Splitter(signal: signal, key: key, destinations: destinations)
        var reader = WireReader(frame: request)
        while let (tag, start) = try reader.nextField() {
            guard tag.number == 1, tag.wireType == .lengthDelimited else {
                try reader.skipField(tag, depth: 0, maxDepth: 8)
                continue
            }
            let region = try reader.readLengthDelimited()
            try splitter.resourceContainer(reader, field: start..<reader.position, content: region, route: route)
        }
        return splitter.parts
    }
}

/// The walk of one request. Levels: 0 the resource container (`ResourceSpans`...), 1 the scope
/// container, 2 a metric, 3 a metric's data (`gauge`, `sum`...); the records are the children of
/// the last level a routing key walks into.
private struct Splitter {
    let signal: Signal
    let key: OTLPRoutingKey
    var parts: [OTLPRequestSplitter.Part]
    /// Per level, the fields of the container being walked that are not its children (copied
    /// into each part that gets one of its records), as regions of the request.
    var wrappers: [[Range<Int>]] = Array(repeating: [], count: 4)
    /// Per level, the container's own field number in its parent.
    var fields: [UInt32] = [1, 2, 2, 0]
    /// Per level and destination, where the container's copy was begun in that part.
    var open: [[ProtoAppender.Mark?]]
    /// The identity of what is being walked: the resource's digest, its scope's and metric's.
    var resourceDigest: UInt64 = 0
    var scopeDigest: UInt64 = 0
    var metricDigest: UInt64 = 0
    /// The data field of the metric being walked (5 gauge, 7 sum, 9 histogram...).
    var dataField: UInt32 = 0

    init(signal: Signal, key: OTLPRoutingKey, destinations: Int) {
        self.signal = signal
        self.key = key
        parts = Array(repeating: OTLPRequestSplitter.Part(), count: destinations)
        open = Array(repeating: Array(repeating: nil, count: destinations), count: 4)
    }

    /// The level whose children are the routed records.
    var recordLevel: Int { key == .streamID ? 4 : 2 }

    mutating func resourceContainer(
        _ reader: WireReader, field: Range<Int>, content: Range<Int>, route: (UnsafeRawBufferPointer) -> Int
    ) throws(DecodeError) {
        switch key {
        case .service, .resource:
            let identity = try resourceIdentity(reader.subReader(content))
            let destination =
                switch key {
                case .service: route(identity.service.map { reader.bytes($0) } ?? Self.nothing)
                default: withUnsafeBytes(of: identity.digest) { route($0) }
                }
            parts[destination].body.append(contentsOf: reader.bytes(field))
            parts[destination].records += try records(reader.subReader(content), level: 0)
        case .traceID, .metric, .streamID:
            if key == .streamID { resourceDigest = try resourceIdentity(reader.subReader(content)).digest }
            try container(reader.subReader(content), level: 0, route: route)
        }
    }

    /// Walks one container: notes its own fields, then routes each child (a record, or a
    /// container walked in turn), and closes the copies it opened.
    mutating func container(_ reader: WireReader, level: Int, route: (UnsafeRawBufferPointer) -> Int)
        throws(DecodeError)
    {
        var scan = reader
        wrappers[level].removeAll(keepingCapacity: true)
        if level == 1 { scopeDigest = 0 }
        if level == 2 { (metricDigest, dataField) = (0, 0) }
        while let (tag, start) = try scan.nextField() {
            let isChild = self.isChild(tag, level: level)
            if tag.wireType == .lengthDelimited {
                let region = try scan.readLengthDelimited()
                if !isChild {
                    wrappers[level].append(start..<scan.position)
                    noteContext(level: level, field: tag.number, bytes: scan.bytes(region))
                } else if level == 2 {
                    dataField = tag.number
                }
            } else {
                try scan.skipField(tag, depth: level + 1, maxDepth: 8)
                wrappers[level].append(start..<scan.position)
            }
        }
        var walk = reader
        while let (tag, start) = try walk.nextField() {
            guard isChild(tag, level: level), tag.wireType == .lengthDelimited else {
                try walk.skipField(tag, depth: level + 1, maxDepth: 8)
                continue
            }
            let region = try walk.readLengthDelimited()
            if level + 1 == recordLevel {
                let destination = try self.destination(ofRecord: walk.subReader(region), route: route)
                ensureOpen(destination, through: level, reader: walk)
                parts[destination].body.append(contentsOf: walk.bytes(start..<walk.position))
                parts[destination].records += key == .metric ? try records(walk.subReader(region), level: 2) : 1
            } else {
                fields[level + 1] = tag.number
                try container(walk.subReader(region), level: level + 1, route: route)
            }
        }
        for destination in parts.indices {
            if let mark = open[level][destination] {
                ProtoAppender.endField(mark, in: &parts[destination].body)
                open[level][destination] = nil
            }
        }
    }

    /// Whether a field of a container at `level` is one of its children.
    func isChild(_ tag: FieldTag, level: Int) -> Bool {
        switch level {
        case 0, 1: tag.number == 2
        case 2: [5, 7, 9, 10, 11].contains(tag.number)
        default: tag.number == 1
        }
    }

    /// Keeps what a stream's identity needs of a container's own fields: its scope and the
    /// metric's name.
    mutating func noteContext(level: Int, field: UInt32, bytes: UnsafeRawBufferPointer) {
        guard key == .streamID else { return }
        if level == 1 && field == 1 { scopeDigest = StableHash.of(bytes) }
        if level == 2 && field == 1 { metricDigest = StableHash.of(bytes) }
    }

    /// Begins the copies of the containers around a record in a part that has none open yet.
    mutating func ensureOpen(_ destination: Int, through level: Int, reader: WireReader) {
        for current in 0...level where open[current][destination] == nil {
            let mark = ProtoAppender.beginField(fields[current], in: &parts[destination].body)
            for wrapper in wrappers[current] { parts[destination].body.append(contentsOf: reader.bytes(wrapper)) }
            open[current][destination] = mark
        }
    }

    static var nothing: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }

    /// Where a record goes: `route` of its trace id, its metric's name or its stream's digest.
    func destination(ofRecord reader: WireReader, route: (UnsafeRawBufferPointer) -> Int) throws(DecodeError) -> Int {
        var reader = reader
        switch key {
        case .traceID, .metric, .service, .resource:
            // A span's trace_id is field 1, a log record's 9; a metric's name is field 1.
            let wanted: UInt32 = key == .traceID && signal == .logs ? 9 : 1
            while let (tag, _) = try reader.nextField() {
                guard tag.number == wanted, tag.wireType == .lengthDelimited else {
                    try reader.skipField(tag, depth: 3, maxDepth: 8)
                    continue
                }
                return route(reader.bytes(try reader.readLengthDelimited()))
            }
            return route(Self.nothing)
        case .streamID:
            // A data point's attributes: field 9 of a histogram's, 1 of an exponential
            // histogram's, 7 of a number's or summary's.
            let attributes: UInt32 = dataField == 9 ? 9 : dataField == 10 ? 1 : 7
            var sum: UInt64 = 0
            while let (tag, _) = try reader.nextField() {
                guard tag.number == attributes, tag.wireType == .lengthDelimited else {
                    try reader.skipField(tag, depth: 5, maxDepth: 8)
                    continue
                }
                sum &+= StableHash.mix(StableHash.of(reader.bytes(try reader.readLengthDelimited())))
            }
            var stream = StableHash.mix(resourceDigest ^ scopeDigest)
            stream = StableHash.mix(stream ^ metricDigest)
            stream = StableHash.mix(stream ^ StableHash.mix(sum))
            return withUnsafeBytes(of: stream) { route($0) }
        }
    }

    /// The number of records in a container at `level` (or in one record's metric at 2).
    func records(_ reader: WireReader, level: Int) throws(DecodeError) -> Int {
        if signal != .metrics && level == 2 { return 1 }
        if level == 4 { return 1 }
        var reader = reader
        var count = 0
        while let (tag, _) = try reader.nextField() {
            guard isChild(tag, level: level), tag.wireType == .lengthDelimited else {
                try reader.skipField(tag, depth: level + 1, maxDepth: 8)
                continue
            }
            let region = try reader.readLengthDelimited()
            count += try records(reader.subReader(region), level: level + 1)
        }
        return count
    }

    /// A resource container's `service.name` (its bytes' region) and the digest of its
    /// resource's attributes.
    func resourceIdentity(_ reader: WireReader) throws(DecodeError) -> (service: Range<Int>?, digest: UInt64) {
        var reader = reader
        var service: Range<Int>?
        var digest: UInt64 = 0
        while let (tag, _) = try reader.nextField() {
            guard tag.number == 1, tag.wireType == .lengthDelimited else {
                try reader.skipField(tag, depth: 1, maxDepth: 8)
                continue
            }
            var resource = reader.subReader(try reader.readLengthDelimited())
            while let (field, _) = try resource.nextField() {
                guard field.number == 1, field.wireType == .lengthDelimited else {
                    try resource.skipField(field, depth: 2, maxDepth: 8)
                    continue
                }
                let attribute = try resource.readLengthDelimited()
                // Each finalised before the sum: FNV-1a's last step is linear in the last byte, and
                // raw hashes of svc-1/h1 and svc-2/h2 summed to the same value.
                digest &+= StableHash.mix(StableHash.of(resource.bytes(attribute)))
                if service == nil { service = try Self.serviceName(resource.subReader(attribute)) }
            }
        }
        return (service, StableHash.mix(digest))
    }

    /// The string value's region when a `KeyValue` is `service.name`.
    static func serviceName(_ reader: WireReader) throws(DecodeError) -> Range<Int>? {
        var reader = reader
        var isService = false
        var value: Range<Int>?
        while let (tag, _) = try reader.nextField() {
            guard tag.wireType == .lengthDelimited, tag.number == 1 || tag.number == 2 else {
                try reader.skipField(tag, depth: 3, maxDepth: 8)
                continue
            }
            let region = try reader.readLengthDelimited()
            if tag.number == 1 {
                isService = reader.bytes(region).elementsEqual("service.name".utf8)
            } else {
                var any = reader.subReader(region)
                while let (field, _) = try any.nextField() {
                    if field.number == 1, field.wireType == .lengthDelimited {
                        value = try any.readLengthDelimited()
                    } else {
                        try any.skipField(field, depth: 4, maxDepth: 8)
                    }
                }
            }
        }
        return isService ? value : nil
    }
}

/// A hash of bytes that is the same in every process and on every machine (unlike `Hasher`,
/// seeded per process): FNV-1a, then MurmurHash3's 64-bit finaliser so that nearby inputs land
/// far apart. For routing (a collision only puts two things on the same backend), not security.
package enum StableHash {
    /// FNV-1a of the bytes, not finalised (finalise each before summing several).
    package static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return hash
    }

    /// MurmurHash3's finaliser: every bit of the input moves about half of the output's.
    package static func mix(_ value: UInt64) -> UInt64 {
        var value = value
        value ^= value >> 33
        value &*= 0xff51_afd7_ed55_8ccd
        value ^= value >> 33
        value &*= 0xc4ce_b9fe_1a85_ec53
        value ^= value >> 33
        return value
    }
}
