#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The pods a `k8s_attributes` stage can associate telemetry with: for each pod only the
/// resource attributes the configuration extracts (already computed, as bytes ready to copy),
/// and indexes by the identifiers association rules use. Lookups take the identifier's bytes
/// straight from the batch, so associating a resource allocates nothing. Memory stays
/// proportional to what is kept.
public struct PodTable: Sendable {
    /// One pod: the attributes to add to a resource associated with it.
    public struct Pod: Sendable, Hashable {
        /// Extracted attributes, in configuration order.
        public var attributes: [(key: String, value: String)] {
            spans.map {
                (
                    String(decoding: blob[Int($0.key.0)..<Int($0.key.0 + $0.key.1)], as: UTF8.self),
                    String(decoding: blob[Int($0.value.0)..<Int($0.value.0 + $0.value.1)], as: UTF8.self)
                )
            }
        }
        /// Every key and value back to back, copied to a batch's arena in one piece.
        let blob: [UInt8]
        /// Each attribute's key and value within `blob` (start, count).
        let spans: [(key: (Int32, Int32), value: (Int32, Int32))]

        public init(attributes: [(key: String, value: String)]) {
            var blob: [UInt8] = []
            var spans: [(key: (Int32, Int32), value: (Int32, Int32))] = []
            for attribute in attributes.map({ (key: Array($0.key.utf8), value: Array($0.value.utf8)) }) {
                let key = (Int32(blob.count), Int32(attribute.key.count))
                blob += attribute.key
                let value = (Int32(blob.count), Int32(attribute.value.count))
                blob += attribute.value
                spans.append((key, value))
            }
            self.blob = blob
            self.spans = spans
        }

        public static func == (lhs: Pod, rhs: Pod) -> Bool {
            lhs.blob == rhs.blob && lhs.spans.elementsEqual(rhs.spans) { $0.key == $1.key && $0.value == $1.value }
        }

        public func hash(into hasher: inout Hasher) { hasher.combine(blob) }
    }

    /// What identifies a pod.
    public struct Identifiers: Sendable {
        public var uid: String
        public var name: String
        public var namespace: String
        /// Pod IPs (empty for a pod without one). Host-network pods share the node's IP.
        public var ips: [String]
        /// Container ids without their runtime scheme (`containerd://…` → `…`).
        public var containerIDs: [String]

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

    /// The pods.
    public private(set) var pods: [Pod] = []
    /// Identifier hash → pod; the identifier's bytes are kept to confirm a hit.
    private var index: [UInt64: (pod: Int32, key: [UInt8])] = [:]
    /// Identifiers whose hash another identifier already has: found by their text instead.
    private var collided: [String: Int32] = [:]
    /// IPs several pods share (host-network pods): never used to associate, as the Collector does.
    public private(set) var sharedIPs: Set<String> = []

    /// An empty table.
    public init() {}

    /// Number of pods kept.
    public var count: Int { pods.count }

    /// Adds a pod.
    public mutating func add(_ pod: Pod, identifiers: Identifiers) {
        let podIndex = Int32(pods.count)
        pods.append(pod)
        for ip in identifiers.ips where !ip.isEmpty {
            if sharedIPs.contains(ip) { continue }
            if lookup(.ip, Array(ip.utf8)) != nil {
                remove(.ip, Array(ip.utf8))
                sharedIPs.insert(ip)
            } else {
                insert(.ip, Array(ip.utf8), podIndex)
            }
        }
        if !identifiers.uid.isEmpty { insert(.uid, Array(identifiers.uid.utf8), podIndex) }
        insert(.name, Array((identifiers.namespace + "/" + identifiers.name).utf8), podIndex)
        for id in identifiers.containerIDs where !id.isEmpty { insert(.container, Array(id.utf8), podIndex) }
    }

    private mutating func insert(_ kind: Kind, _ key: [UInt8], _ pod: Int32) {
        let hash = key.withUnsafeBytes { Self.hash(kind, $0) }
        if let existing = index[hash], existing.key != key {
            collided["\(kind.rawValue):" + String(decoding: key, as: UTF8.self)] = pod
        } else {
            index[hash] = (pod, key)
        }
    }

    private mutating func remove(_ kind: Kind, _ key: [UInt8]) {
        let hash = key.withUnsafeBytes { Self.hash(kind, $0) }
        if index[hash]?.key == key { index[hash] = nil }
        collided["\(kind.rawValue):" + String(decoding: key, as: UTF8.self)] = nil
    }

    private func lookup(_ kind: Kind, _ key: [UInt8]) -> Int32? {
        key.withUnsafeBytes { lookup(kind, $0) }
    }

    /// The pod with this identifier.
    func lookup(_ kind: Kind, _ key: UnsafeRawBufferPointer) -> Int32? {
        let hash = Self.hash(kind, key)
        if let hit = index[hash], hit.key.count == key.count,
            hit.key.withUnsafeBytes({ $0.count == 0 || memcmp($0.baseAddress!, key.baseAddress!, key.count) == 0 })
        {
            return hit.pod
        }
        guard !collided.isEmpty else { return nil }
        return collided["\(kind.rawValue):" + String(decoding: key, as: UTF8.self)]
    }

    /// FNV-1a over the kind and the bytes.
    static func hash(_ kind: Kind, _ bytes: UnsafeRawBufferPointer, seed: UInt64? = nil) -> UInt64 {
        var hash = seed ?? (0xcbf2_9ce4_8422_2325 ^ kind.rawValue) &* 0x100_0000_01b3
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    /// Whether several pods share this IP.
    func isShared(ip: UnsafeRawBufferPointer) -> Bool {
        !sharedIPs.isEmpty && sharedIPs.contains(String(decoding: ip, as: UTF8.self))
    }

    /// The pod with this IP; nil when none, or when several pods share it.
    public func pod(ip: String) -> Pod? { lookup(.ip, Array(ip.utf8)).map { pods[Int($0)] } }
    /// The pod with this UID.
    public func pod(uid: String) -> Pod? { lookup(.uid, Array(uid.utf8)).map { pods[Int($0)] } }
    /// The pod with this name in this namespace.
    public func pod(name: String, namespace: String) -> Pod? {
        lookup(.name, Array((namespace + "/" + name).utf8)).map { pods[Int($0)] }
    }
    /// The pod running this container.
    public func pod(containerID: String) -> Pod? { lookup(.container, Array(containerID.utf8)).map { pods[Int($0)] } }

    /// The pod with this name in this namespace, from bytes (no `namespace/name` string built).
    func pod(name: UnsafeRawBufferPointer, namespace: UnsafeRawBufferPointer) -> Int32? {
        var hash = Self.hash(.name, namespace)
        hash = (hash ^ UInt64(UInt8(ascii: "/"))) &* 0x100_0000_01b3
        hash = Self.hash(.name, name, seed: hash)
        if let hit = index[hash], hit.key.count == namespace.count + 1 + name.count,
            hit.key[namespace.count] == UInt8(ascii: "/"), hit.key[..<namespace.count].elementsEqual(namespace),
            hit.key[(namespace.count + 1)...].elementsEqual(name)
        {
            return hit.pod
        }
        guard !collided.isEmpty else { return nil }
        return collided[
            "\(Kind.name.rawValue):" + String(decoding: namespace, as: UTF8.self) + "/"
                + String(decoding: name, as: UTF8.self)]
    }
}
