#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The pods a `k8s_attributes` stage can associate telemetry with: for each pod only the
/// resource attributes the configuration extracts (already computed, as bytes ready to copy),
/// and one index by the identifiers association rules use. Lookups take the identifier's bytes
/// straight from the batch, so associating a resource allocates nothing.
///
/// Everything lives in two flat arrays (no object per pod or per identifier): an index of slots,
/// and one record per pod holding its attributes and its identifiers' bytes together. With
/// 10,000 pods the stage's time is cache misses, so a lookup touches one slot and one record:
/// the record's identifier confirms the hit and its attributes are the next lines over.
/// Memory stays proportional to what is kept.
public struct PodTable: Sendable {
    /// One pod: the attributes to add to a resource associated with it (how pods are handed to
    /// the table; the table keeps the bytes flat).
    public struct Pod: Sendable, Hashable {
        /// Extracted attributes, in configuration order.
        public var attributes: [(key: String, value: String)] {
            spans.map {
                (
                    String(decoding: blob[Int($0.keyStart)..<Int($0.keyStart + $0.keyCount)], as: UTF8.self),
                    String(decoding: blob[Int($0.valueStart)..<Int($0.valueStart + $0.valueCount)], as: UTF8.self)
                )
            }
        }
        /// Every key and value back to back, copied to a batch's arena in one piece.
        let blob: [UInt8]
        /// Each attribute's key and value within `blob`.
        let spans: [AttributeSpan]

        /// Makes a pod from the attributes it adds. Allocates the attribute list.
        public init(attributes: [(key: String, value: String)]) {
            var blob: [UInt8] = []
            var spans: [AttributeSpan] = []
            for attribute in attributes {
                let keyStart = Int32(blob.count)
                blob += attribute.key.utf8
                let valueStart = Int32(blob.count)
                blob += attribute.value.utf8
                spans.append(
                    AttributeSpan(
                        keyStart: keyStart, keyCount: valueStart - keyStart, valueStart: valueStart,
                        valueCount: Int32(blob.count) - valueStart))
            }
            self.blob = blob
            self.spans = spans
        }

        init(blob: [UInt8], spans: [AttributeSpan]) {
            self.blob = blob
            self.spans = spans
        }
    }

    /// Where one attribute's key and value lie within its pod's bytes.
    struct AttributeSpan: Sendable, Hashable {
        var keyStart: Int32
        var keyCount: Int32
        var valueStart: Int32
        var valueCount: Int32
    }

    /// What identifies a pod.
    public struct Identifiers: Sendable {
        /// The pod's UID.
        public var uid: String
        /// The pod's name.
        public var name: String
        /// The pod's namespace.
        public var namespace: String
        /// Pod IPs (empty for a pod without one). Host-network pods share the node's IP.
        public var ips: [String]
        /// Container ids without their runtime scheme (`containerd://…` → `…`).
        public var containerIDs: [String]

        /// Makes the identifiers of a pod. Allocates nothing (keeps the arrays).
        public init(uid: String, name: String, namespace: String, ips: [String], containerIDs: [String]) {
            self.uid = uid
            self.name = name
            self.namespace = namespace
            self.ips = ips
            self.containerIDs = containerIDs
        }
    }

    /// What an identifier is, so one index serves every kind.
    enum Kind: UInt64 { case ip = 1, uid, name, container }

    /// What a lookup found.
    enum Found: Equatable {
        /// The pod's record (its offset in the table's records).
        case pod(Int32)
        /// An IP several pods share (host-network pods): never used to associate, as in the Collector.
        case sharedIP
        case missing
    }

    /// One slot of the open-addressing index (linear probing, at most half full).
    private struct Slot: Sendable {
        /// The identifier's hash; 0 marks an empty slot (a real hash of 0 is stored as 1).
        var hash: UInt64 = 0
        /// The pod's record, or `PodTable.sharedMarker`.
        var record: Int32 = 0
        /// The identifier's bytes within `records`.
        var keyStart: UInt32 = 0
        var keyCount: UInt32 = 0
    }

    private static let sharedMarker: Int32 = -1
    /// A record starts with its attribute count and its attribute bytes' length (two Int32).
    private static let recordHeader = 8
    private static let spanSize = MemoryLayout<AttributeSpan>.size

    /// One record per pod: header, attribute spans, attribute bytes, then its identifiers' bytes
    /// (a name is stored as `namespace/name`).
    private var records: [UInt8] = []
    /// The index, a power of two long.
    private var slots: [Slot] = Array(repeating: Slot(), count: 16)
    private var usedSlots = 0
    /// Mixed into every hash: telemetry senders choose the identifiers looked up, not the
    /// table's layout.
    private let seed: UInt64
    /// IPs several pods share.
    public private(set) var sharedIPCount = 0
    /// Number of pods kept.
    public private(set) var count = 0
    /// Items of the list the table was read from that were no pod (null, not an object, or
    /// without a name or uid): skipped, and counted so the report can say so.
    public var skippedItems = 0

    /// An empty table. Allocates nothing.
    public init() {
        var generator = SystemRandomNumberGenerator()
        seed = generator.next() | 1
    }

    /// Adds a pod. Allocates when the indexes grow.
    public mutating func add(_ pod: Pod, identifiers: Identifiers) {
        let record = Int32(records.count)
        count += 1
        withUnsafeBytes(of: Int32(pod.spans.count).littleEndian) { records += $0 }
        withUnsafeBytes(of: Int32(pod.blob.count).littleEndian) { records += $0 }
        for span in pod.spans { withUnsafeBytes(of: span) { records += $0 } }
        records += pod.blob
        for ip in identifiers.ips where !ip.isEmpty {
            let key = Array(ip.utf8)
            let hash = key.withUnsafeBytes { self.hash(.ip, $0) }
            switch key.withUnsafeBytes({ key in find(hash) { Self.same($0, key) } }) {
            case .some(let slot):
                // A second pod with this IP: the IP now identifies no pod.
                if slots[slot].record != Self.sharedMarker {
                    slots[slot].record = Self.sharedMarker
                    sharedIPCount += 1
                }
            case nil: insert(hash, key, record)
            }
        }
        if !identifiers.uid.isEmpty { index(.uid, Array(identifiers.uid.utf8), record) }
        let namespace = Array(identifiers.namespace.utf8)
        let name = Array(identifiers.name.utf8)
        let nameHash = namespace.withUnsafeBytes { namespace in name.withUnsafeBytes { self.hash(namespace, $0) } }
        let nameKey = namespace + [UInt8(ascii: "/")] + name
        if let slot = nameKey.withUnsafeBytes({ key in find(nameHash) { Self.same($0, key) } }) {
            slots[slot].record = record
        } else {
            insert(nameHash, nameKey, record)
        }
        for id in identifiers.containerIDs where !id.isEmpty { index(.container, Array(id.utf8), record) }
    }

    /// Indexes an identifier; a later pod with the same identifier replaces an earlier one.
    private mutating func index(_ kind: Kind, _ key: [UInt8], _ record: Int32) {
        let hash = key.withUnsafeBytes { self.hash(kind, $0) }
        if let slot = key.withUnsafeBytes({ key in find(hash) { Self.same($0, key) } }) {
            slots[slot].record = record
        } else {
            insert(hash, key, record)
        }
    }

    /// Indexes a new identifier; its bytes join the record just added (the last one).
    private mutating func insert(_ hash: UInt64, _ key: [UInt8], _ record: Int32) {
        if (usedSlots + 1) * 2 > slots.count { grow() }
        let mask = slots.count - 1
        var position = Int(truncatingIfNeeded: hash) & mask
        while slots[position].hash != 0 { position = (position + 1) & mask }
        slots[position] = Slot(hash: hash, record: record, keyStart: UInt32(records.count), keyCount: UInt32(key.count))
        records += key
        usedSlots += 1
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: Slot(), count: old.count * 2)
        let mask = slots.count - 1
        for slot in old where slot.hash != 0 {
            var position = Int(truncatingIfNeeded: slot.hash) & mask
            while slots[position].hash != 0 { position = (position + 1) & mask }
            slots[position] = slot
        }
    }

    /// The slot holding the identifier with this hash whose stored bytes `matches` accepts.
    @inline(__always)
    private func find(_ hash: UInt64, _ matches: (UnsafeRawBufferPointer) -> Bool) -> Int? {
        slots.withUnsafeBufferPointer { slots in
            records.withUnsafeBytes { keyBytes in
                let mask = slots.count - 1
                var position = Int(truncatingIfNeeded: hash) & mask
                while true {
                    let slot = slots[position]
                    if slot.hash == 0 { return nil }
                    if slot.hash == hash
                        && matches(
                            UnsafeRawBufferPointer(
                                rebasing: keyBytes[Int(slot.keyStart)..<Int(slot.keyStart + slot.keyCount)]))
                    {
                        return position
                    }
                    position = (position + 1) & mask
                }
            }
        }
    }

    /// The pod with this identifier.
    func lookup(_ kind: Kind, _ key: UnsafeRawBufferPointer) -> Found {
        lookup(kind, key, hash: hash(kind, key))
    }

    /// The pod with this identifier, whose `hash(kind, key)` the caller computed.
    func lookup(_ kind: Kind, _ key: UnsafeRawBufferPointer, hash: UInt64) -> Found {
        found(find(hash) { Self.same($0, key) })
    }

    /// The pod with this name in this namespace, from the batch's bytes (no `namespace/name`
    /// string built).
    func lookup(name: UnsafeRawBufferPointer, namespace: UnsafeRawBufferPointer) -> Found {
        lookup(name: name, namespace: namespace, hash: hash(namespace, name))
    }

    /// The pod with this name in this namespace, whose `hash(namespace, name)` the caller computed.
    func lookup(name: UnsafeRawBufferPointer, namespace: UnsafeRawBufferPointer, hash: UInt64) -> Found {
        found(
            find(hash) { stored in
                stored.count == namespace.count + 1 + name.count
                    && stored[namespace.count] == UInt8(ascii: "/")
                    && Self.same(UnsafeRawBufferPointer(rebasing: stored[..<namespace.count]), namespace)
                    && Self.same(UnsafeRawBufferPointer(rebasing: stored[(namespace.count + 1)...]), name)
            })
    }

    @inline(__always)
    private func found(_ slot: Int?) -> Found {
        guard let slot else { return .missing }
        let record = slots[slot].record
        return record == Self.sharedMarker ? .sharedIP : .pod(record)
    }

    @inline(__always)
    static func same(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
        lhs.count == rhs.count && (lhs.count == 0 || memcmp(lhs.baseAddress!, rhs.baseAddress!, lhs.count) == 0)
    }

    /// A word-at-a-time multiplicative hash of the kind and the bytes (a byte-at-a-time hash
    /// was a fifth of the stage's time).
    @inline(__always)
    func hash(_ kind: Kind, _ bytes: UnsafeRawBufferPointer) -> UInt64 {
        Self.finish(Self.mix(seed ^ (kind.rawValue &* 0x9E37_79B9_7F4A_7C15), bytes))
    }

    /// The hash of a name within a namespace.
    @inline(__always)
    func hash(_ namespace: UnsafeRawBufferPointer, _ name: UnsafeRawBufferPointer) -> UInt64 {
        let state = Self.mix(seed ^ (Kind.name.rawValue &* 0x9E37_79B9_7F4A_7C15), namespace)
        return Self.finish(Self.mix(state ^ 0x2F, name))
    }

    @inline(__always)
    private static func mix(_ state: UInt64, _ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var state = state ^ UInt64(bytes.count)
        var offset = 0
        while offset + 8 <= bytes.count {
            state = (state ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            state ^= state >> 32
            offset += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count {
            tail |= UInt64(bytes[offset]) << shift
            shift += 8
            offset += 1
        }
        return (state ^ tail) &* 0xC4CE_B9FE_1A85_EC53
    }

    /// A final avalanche; never 0 (0 marks an empty slot).
    @inline(__always)
    private static func finish(_ state: UInt64) -> UInt64 {
        var hash = state ^ (state >> 33)
        hash = hash &* 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 33
        return hash == 0 ? 1 : hash
    }

    /// Loads the index slot a lookup of `hash` starts at, so that lookups of several
    /// identifiers wait for memory together rather than one after another; returns what it read
    /// (for the caller to keep, so the load is not optimised away).
    @inline(__always)
    func touchSlot(_ hash: UInt64) -> UInt64 {
        slots.withUnsafeBufferPointer { $0[Int(truncatingIfNeeded: hash) & ($0.count - 1)].hash }
    }

    /// Takes what touching loads read, so the optimiser keeps the loads (a call per chunk of
    /// resources; never inlined or optimised).
    @_optimize(none)
    static func keep(_ value: UInt64) {}

    /// Loads the record of the first identifier with this hash, where its bytes and its
    /// attributes start (as `touchSlot` does for the index).
    @inline(__always)
    func touchCandidate(_ hash: UInt64) -> UInt8 {
        slots.withUnsafeBufferPointer { slots in
            records.withUnsafeBytes { records in
                let mask = slots.count - 1
                var position = Int(truncatingIfNeeded: hash) & mask
                while slots[position].hash != 0 {
                    let slot = slots[position]
                    if slot.hash == hash {
                        let attributes =
                            slot.record == Self.sharedMarker ? 0 : records[Int(slot.record) + Self.recordHeader]
                        return attributes &+ records[Int(slot.keyStart)]
                    }
                    position = (position + 1) & mask
                }
                return 0
            }
        }
    }

    /// Calls `body` with the pod's attribute bytes and where each attribute lies within them.
    @inline(__always)
    func withPod<Result>(
        _ record: Int32, _ body: (UnsafeRawBufferPointer, UnsafeBufferPointer<AttributeSpan>) -> Result
    ) -> Result {
        records.withUnsafeBytes { records in
            let start = Int(record)
            let spanCount = Int(Int32(littleEndian: records.loadUnaligned(fromByteOffset: start, as: Int32.self)))
            let byteCount = Int(Int32(littleEndian: records.loadUnaligned(fromByteOffset: start + 4, as: Int32.self)))
            let spansStart = start + Self.recordHeader
            let bytesStart = spansStart + spanCount * Self.spanSize
            // Records are appended as raw bytes; spans are Int32 fields, so copy them out when
            // the record does not happen to be aligned.
            return withUnsafeTemporaryAllocation(of: AttributeSpan.self, capacity: spanCount) { spans in
                UnsafeMutableRawBufferPointer(spans).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: records[spansStart..<bytesStart]))
                return body(
                    UnsafeRawBufferPointer(rebasing: records[bytesStart..<bytesStart + byteCount]),
                    UnsafeBufferPointer(spans))
            }
        }
    }

    private func pod(_ found: Found) -> Pod? {
        guard case .pod(let index) = found else { return nil }
        return withPod(index) { Pod(blob: Array($0), spans: Array($1)) }
    }

    private func pod(_ kind: Kind, _ key: String) -> Pod? {
        pod(Array(key.utf8).withUnsafeBytes { lookup(kind, $0) })
    }

    /// The pod with this IP; nil when none, or when several pods share it. Allocates nothing.
    public func pod(ip: String) -> Pod? { pod(.ip, ip) }
    /// The pod with this UID. Allocates nothing.
    public func pod(uid: String) -> Pod? { pod(.uid, uid) }
    /// The pod with this name in this namespace. Allocates nothing.
    public func pod(name: String, namespace: String) -> Pod? {
        pod(
            Array(name.utf8).withUnsafeBytes { name in
                Array(namespace.utf8).withUnsafeBytes { lookup(name: name, namespace: $0) }
            })
    }
    /// The pod running this container. Allocates nothing.
    public func pod(containerID: String) -> Pod? { pod(.container, containerID) }
    /// Whether several pods share this IP. Allocates nothing.
    public func isShared(ip: String) -> Bool {
        Array(ip.utf8).withUnsafeBytes { lookup(.ip, $0) } == .sharedIP
    }
}
