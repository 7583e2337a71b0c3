import Synchronization
public import TraplineCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// How a resource finds its pod: the Collector's `pod_association` rules, tried in order; the
/// first rule whose sources are all present decides (found or not).
public struct PodAssociationRule: Sendable, Hashable {
    /// Where an identifier comes from.
    public enum Source: Sendable, Hashable {
        /// A resource attribute: `k8s.pod.ip` (or the older `ip`, `host.name`), `k8s.pod.uid`,
        /// `k8s.pod.name` with `k8s.namespace.name`, `container.id`.
        case resourceAttribute(String)
        /// The receiver's peer address (only a network receiver has one).
        case connection
    }

    /// Up to four sources, all needed.
    public var sources: [Source]

    /// Makes a rule from its sources. Allocates nothing.
    public init(sources: [Source]) { self.sources = sources }

    /// The Collector's default rules: pod IP, pod UID, then the connection.
    public static let defaults = [
        PodAssociationRule(sources: [.resourceAttribute("k8s.pod.ip")]),
        PodAssociationRule(sources: [.resourceAttribute("k8s.pod.uid")]),
        PodAssociationRule(sources: [.connection]),
    ]

    /// Attribute names a rule may use.
    public static let attributeNames = [
        "k8s.pod.ip", "ip", "host.name", "k8s.pod.uid", "k8s.pod.name", "k8s.namespace.name", "container.id",
    ]
}

/// The pod table a stage reads, reloaded when its file changes (checked at most once a second).
public final class PodTableSource: Sendable {
    private struct State {
        var table: PodTable
        var modified: timespec
        var checked: UInt64
    }

    /// The file the table comes from (nil: a fixed table).
    public let path: String?
    private let load: @Sendable () throws -> PodTable
    private let state: Mutex<State>
    /// Reloads that failed (the last good table stays).
    private let failedReloads = Atomic<Int>(0)

    /// How often the file's modification time is checked, in nanoseconds.
    private let checkInterval: UInt64

    /// A table from a file; `load` reads and parses it.
    ///
    /// - Parameters:
    ///   - path: the file (nil: a fixed table, or one a watch replaces).
    ///   - initial: the table to start with.
    ///   - checkInterval: nanoseconds between looks at the file (default one second).
    ///   - load: reads and parses the file when it changed.
    ///
    /// Allocates the source; the file is read again only when it changes.
    public init(
        path: String?, initial: PodTable, checkInterval: UInt64 = 1_000_000_000,
        load: @escaping @Sendable () throws -> PodTable
    ) {
        self.path = path
        self.load = load
        self.checkInterval = checkInterval
        state = Mutex(State(table: initial, modified: Self.modified(path), checked: Clock.nanoseconds()))
    }

    /// Replaces the table (a watch of the Kubernetes API applied an event); batches that start
    /// from now on see it. Allocates nothing (the table is shared, not copied).
    public func replace(_ table: PodTable) {
        state.withLock { $0.table = table }
    }

    /// Reload failures so far.
    public var reloadFailures: Int { failedReloads.load(ordering: .relaxed) }

    /// The current table (one lock per batch, not per span). Allocates nothing (the table is shared, not copied).
    public func current() -> PodTable {
        let now = Clock.nanoseconds()
        let (table, stale) = state.withLock { state -> (PodTable, Bool) in
            guard path != nil, now &- state.checked >= checkInterval else { return (state.table, false) }
            state.checked = now
            let modified = Self.modified(path)
            guard modified.tv_sec != state.modified.tv_sec || modified.tv_nsec != state.modified.tv_nsec else {
                return (state.table, false)
            }
            state.modified = modified
            return (state.table, true)
        }
        guard stale else { return table }
        do {
            let fresh = try load()
            state.withLock { $0.table = fresh }
            return fresh
        } catch {
            failedReloads.add(1, ordering: .relaxed)
            return table
        }
    }

    private static func modified(_ path: String?) -> timespec {
        guard let path else { return timespec() }
        var info = stat()
        guard stat(path, &info) == 0 else { return timespec() }
        return info.st_mtim
    }
}

/// The `k8s_attributes` processor (`k8sattributes` in pipeline files): adds Kubernetes metadata
/// to resources, once per resource (never per span), from the pod each resource is associated
/// with.
public struct K8sAttributesStage: Stage {
    public let id: String
    /// The pods.
    public let source: PodTableSource
    /// Association rules, in order.
    public let rules: [PodAssociationRule]
    /// With `passthrough`, only the pod IP from the connection is added (the Collector's agent
    /// mode); without a connection there is nothing to add.
    public let passthrough: Bool

    /// The rules, reduced to the lookup each makes (nil: a rule that cannot apply here).
    private let lookups: [Lookup?]

    private enum Lookup {
        case connection
        case ip([UInt8])
        case uid
        case nameAndNamespace
        case container
    }

    /// Makes the stage. Allocates nothing.
    public init(id: String, source: PodTableSource, rules: [PodAssociationRule], passthrough: Bool = false) {
        self.id = id
        self.source = source
        self.rules = rules.isEmpty ? PodAssociationRule.defaults : rules
        self.passthrough = passthrough
        lookups = self.rules.map { rule in
            var names: [String] = []
            for source in rule.sources {
                // The connection: the address of the client that sent the batch (a receiver's peer).
                guard case .resourceAttribute(let name) = source else {
                    return rule.sources.count == 1 ? .connection : nil
                }
                names.append(name)
            }
            if names.contains("k8s.pod.name") { return .nameAndNamespace }
            switch names.first {
            case "k8s.pod.ip": return .ip(Self.podIP)
            case "ip": return .ip(Self.ip)
            case "host.name": return .ip(Self.hostName)
            case "k8s.pod.uid": return .uid
            case "container.id": return .container
            default: return nil
            }
        }
    }

    /// Adds the pod's attributes per resource, not per record; allocates only when the batch's table or arena
    /// grows.
    public func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts) {
        enrich(&batch.resources, batch.scopes, &batch.attributes, &batch.storage, batch.clientAddress, mask, &counts)
    }

    /// Adds the pod's attributes per resource, not per record; allocates only when the batch's table or arena
    /// grows.
    public func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts) {
        enrich(&batch.resources, batch.scopes, &batch.attributes, &batch.storage, batch.clientAddress, mask, &counts)
    }

    /// Adds the pod's attributes to each metric resource, not per data point; allocates only
    /// when the batch's table or arena grows.
    public func process(_ batch: inout MetricBatch, mask: inout RowMask, counts: inout StageCounts) {
        enrich(&batch.resources, batch.scopes, &batch.attributes, &batch.storage, batch.clientAddress, mask, &counts)
    }

    private func enrich(
        _ resources: inout [ResourceEntry], _ scopes: [ScopeEntry], _ table: inout AttributeTable,
        _ storage: inout SliceStorage, _ client: [UInt8], _ mask: RowMask, _ counts: inout StageCounts
    ) {
        if passthrough {
            // Agent mode: only the connection's IP, as k8s.pod.ip, for a gateway to associate by.
            guard !client.isEmpty else { return }
            let ip = PodTable.Pod(attributes: [("k8s.pod.ip", String(decoding: client, as: UTF8.self))])
            ip.blob.withUnsafeBytes { blob in
                ip.spans.withUnsafeBufferPointer { spans in
                    for index in resources.indices { add(blob, spans, to: &resources[index], &table, &storage) }
                }
            }
            return
        }
        let pods = source.current()
        counts.podTableSize = max(counts.podTableSize, pods.count)
        counts.podListItemsSkipped = max(counts.podListItemsSkipped, pods.skippedItems)
        // Resources in chunks of 16, looked up before any is enriched: with thousands of pods
        // every lookup misses the cache twice (index slot, pod record), and misses that wait
        // together cost about one.
        withUnsafeTemporaryAllocation(of: PodTable.Found.self, capacity: Self.chunk) { found in
            for chunkStart in stride(from: 0, to: resources.count, by: Self.chunk) {
                let chunk = chunkStart..<min(chunkStart + Self.chunk, resources.count)
                storage.withBytes { bytes in
                    client.withUnsafeBytes { client in
                        lookUp(resources[chunk], scopes, table, bytes, mask, pods, client: client, into: found, &counts)
                    }
                }
                for index in chunk {
                    if case .pod(let record) = found[index - chunkStart] {
                        add(record, of: pods, to: &resources[index], &table, &storage)
                    }
                }
            }
        }
    }

    /// Finds the pods of a chunk of resources, in passes: identifiers (from the batch, in
    /// cache), then a tight loop loading each index slot, one loading each candidate record, and
    /// the lookups proper, which now find their memory loaded.
    private func lookUp(
        _ resources: ArraySlice<ResourceEntry>, _ scopes: [ScopeEntry], _ table: AttributeTable,
        _ bytes: BatchBytes, _ mask: RowMask, _ pods: PodTable, client: UnsafeRawBufferPointer,
        into found: UnsafeMutableBufferPointer<PodTable.Found>, _ counts: inout StageCounts
    ) {
        withUnsafeTemporaryAllocation(of: Identifier.self, capacity: resources.count) { identifiers in
            for (offset, resource) in resources.enumerated() {
                let live = resource.scopes.range.contains { scopes[$0].rows.range.contains { mask.kept[$0] } }
                identifiers[offset] =
                    live ? identifierOf(resource.attributes, table, bytes, pods, client: client) : .dead
            }
            var touched: UInt64 = 0
            for identifier in identifiers {
                if let hash = identifier.hash { touched &+= pods.touchSlot(hash) }
            }
            for identifier in identifiers {
                if let hash = identifier.hash { touched &+= UInt64(pods.touchCandidate(hash)) }
            }
            PodTable.keep(touched)
            for (offset, identifier) in identifiers.enumerated() {
                found[offset] = identifier.lookup(in: pods)
                if case .dead = identifier { continue }
                counts.associationLookups += 1
                switch found[offset] {
                case .pod: break
                case .sharedIP:
                    counts.associationMisses += 1
                    counts.sharedIPMisses += 1
                case .missing: counts.associationMisses += 1
                }
            }
        }
    }

    /// Resources looked up together.
    private static let chunk = 16

    /// What a resource is looked up by (its bytes are valid inside the batch's byte view).
    private enum Identifier {
        /// No kept record: not looked up.
        case dead
        /// No rule applies: a miss.
        case none
        case key(PodTable.Kind, UnsafeRawBufferPointer, hash: UInt64)
        case name(UnsafeRawBufferPointer, namespace: UnsafeRawBufferPointer, hash: UInt64)

        var hash: UInt64? {
            switch self {
            case .dead, .none: nil
            case .key(_, _, let hash), .name(_, _, let hash): hash
            }
        }

        func lookup(in pods: PodTable) -> PodTable.Found {
            switch self {
            case .dead, .none: .missing
            case .key(let kind, let key, let hash): pods.lookup(kind, key, hash: hash)
            case .name(let name, let namespace, let hash): pods.lookup(name: name, namespace: namespace, hash: hash)
            }
        }
    }

    /// Byte equality, length first (most keys differ in length).
    @inline(__always)
    static func same(_ bytes: UnsafeRawBufferPointer, _ wanted: [UInt8]) -> Bool {
        guard bytes.count == wanted.count else { return false }
        return wanted.withUnsafeBytes { PodTable.same(bytes, $0) }
    }

    /// Attribute names rules read, as bytes.
    private static let podIP = Array("k8s.pod.ip".utf8)
    private static let ip = Array("ip".utf8)
    private static let hostName = Array("host.name".utf8)
    private static let podUID = Array("k8s.pod.uid".utf8)
    private static let podName = Array("k8s.pod.name".utf8)
    private static let namespaceName = Array("k8s.namespace.name".utf8)
    private static let containerID = Array("container.id".utf8)

    /// What the resource's pod is looked up by: the first rule whose sources are all present decides.
    private func identifierOf(
        _ range: RowRange, _ table: AttributeTable, _ bytes: BatchBytes, _ pods: PodTable,
        client: UnsafeRawBufferPointer
    ) -> Identifier {
        func value(_ name: [UInt8]) -> UnsafeRawBufferPointer? {
            for index in range.range where table.values[index].kind == .string {
                if Self.same(bytes[table.keys[index]], name) {
                    let text = bytes[table.values[index].slice]
                    return text.isEmpty ? nil : text
                }
            }
            return nil
        }
        func key(_ kind: PodTable.Kind, _ key: UnsafeRawBufferPointer) -> Identifier {
            .key(kind, key, hash: pods.hash(kind, key))
        }
        for lookup in lookups {
            switch lookup {
            case .connection:
                guard !client.isEmpty else { continue }
                return key(.ip, client)
            case .nameAndNamespace:
                guard let name = value(Self.podName), let namespace = value(Self.namespaceName) else { continue }
                return .name(name, namespace: namespace, hash: pods.hash(namespace, name))
            case .ip(let name):
                guard let address = value(name) else { continue }
                return key(.ip, address)
            case .uid:
                guard let uid = value(Self.podUID) else { continue }
                return key(.uid, uid)
            case .container:
                guard let id = value(Self.containerID) else { continue }
                return key(.container, id)
            case nil: continue
            }
        }
        return .none
    }

    /// Adds the pod's attributes the resource does not already have (existing values win, as
    /// in the Collector): the pod's bytes go to the arena in one piece, and the resource's
    /// attributes move to the end of the table once.
    private func add(
        _ pod: Int32, of pods: PodTable, to resource: inout ResourceEntry, _ table: inout AttributeTable,
        _ storage: inout SliceStorage
    ) {
        pods.withPod(pod) { blob, spans in add(blob, spans, to: &resource, &table, &storage) }
    }

    /// Adds attributes given as bytes and where each lies within them (a pod's, or the
    /// connection's IP in passthrough mode).
    private func add(
        _ blob: UnsafeRawBufferPointer, _ spans: UnsafeBufferPointer<PodTable.AttributeSpan>,
        to resource: inout ResourceEntry, _ table: inout AttributeTable, _ storage: inout SliceStorage
    ) {
        let range = resource.attributes
        // Bit i: the resource already has the pod's attribute i (pods keep at most 64).
        let present: UInt64 = storage.withBytes { bytes in
            var present: UInt64 = 0
            for (index, span) in spans.prefix(64).enumerated() {
                let key = UnsafeRawBufferPointer(
                    rebasing: blob[Int(span.keyStart)..<Int(span.keyStart + span.keyCount)])
                if range.range.contains(where: { PodTable.same(bytes[table.keys[$0]], key) }) {
                    present |= 1 << UInt64(index)
                }
            }
            return present
        }
        let wanted = spans.count >= 64 ? UInt64.max : (1 << UInt64(spans.count)) - 1
        guard present != wanted else { return }
        let base = storage.appendToArena(blob).offset
        resource.attributes = table.copyToEnd(range)
        for (index, span) in spans.prefix(64).enumerated() where present & (1 << UInt64(index)) == 0 {
            table.append(
                key: .arena(start: base + Int(span.keyStart), count: Int(span.keyCount)),
                value: .slice(.string, .arena(start: base + Int(span.valueStart), count: Int(span.valueCount))))
            resource.attributes.count += 1
        }
        resource.isModified = true
    }
}
