import Foundation
import TraplineRules
public import TraplineStages
import Yams

/// A pod list that cannot be read: the file and why.
@_spi(Plumbing) public struct PodListError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Reads Kubernetes object lists (`kubectl get … -o json|yaml`, the kubelet's `/pods`) into the
/// pod table a `k8sattributes` stage uses, keeping for each pod only the attributes the
/// configuration extracts.
@_spi(Plumbing) public struct PodListLoader: Sendable {
    public let config: K8sAttributesConfig
    let environment: [String: String]
    /// The labels' and annotations' `key_regex` (anchored to the whole key) and `regex`
    /// settings, compiled once: compiling per pod and key cost seconds for a large pattern.
    private let patterns: [String: ByteRegex]

    /// - Parameters:
    ///   - config: the processor's settings.
    ///   - environment: for `filter.node_from_env_var`; nil reads the process environment.
    public init(config: K8sAttributesConfig, environment: [String: String]? = nil) {
        self.config = config
        self.environment = environment ?? ProcessInfo.processInfo.environment
        var patterns: [String: ByteRegex] = [:]
        for extraction in config.labels + config.annotations {
            for pattern in [extraction.keyRegex.map(Self.wholeKey), extraction.valueRegex].compactMap({ $0 })
            where patterns[pattern] == nil {
                // The configuration decoder reported a pattern that does not compile.
                patterns[pattern] = try? ByteRegex(pattern)
            }
        }
        self.patterns = patterns
    }

    /// The Deployment a ReplicaSet belongs to, from its name as the Collector derives it: a
    /// Deployment's ReplicaSet is named `<deployment>-<hash>`, the hash 10 lowercase letters or
    /// digits; a name without such a suffix names no Deployment. The `pod-template-hash` label
    /// is not consulted (the Collector does not), so a label that disagrees changes nothing.
    static func deploymentName(ofReplicaSet name: String) -> String? {
        guard let dash = name.lastIndex(of: "-"), dash > name.startIndex else { return nil }
        let hash = name[name.index(after: dash)...]
        guard hash.utf8.count == 10,
            hash.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) })
        else { return nil }
        return String(name[..<dash])
    }

    /// `key_regex` matches the whole key, as in the Collector.
    private static func wholeKey(_ pattern: String) -> String { "^(?:" + pattern + ")$" }

    /// Reads the configured files and builds the table.
    ///
    /// - Throws: `PodListError` naming the file that cannot be read or parsed.
    public func load() throws(PodListError) -> PodTable {
        guard let podFile = config.podListFile else { return PodTable() }
        var skipped = 0
        let pods = try Self.objects(podFile, kind: "Pod", skipped: &skipped)
        let namespaces =
            try config.namespaceListFile.map { path throws(PodListError) in
                try Self.objects(path, kind: "Namespace", skipped: &skipped)
            } ?? []
        let nodes =
            try config.nodeListFile.map { path throws(PodListError) in
                try Self.objects(path, kind: "Node", skipped: &skipped)
            } ?? []
        var table = table(pods: pods, namespaces: namespaces, nodes: nodes)
        table.skippedItems = skipped
        return table
    }

    /// The objects of a file: a `List`/`…List`'s items, or the one object, of `kind`.
    static func objects(_ path: String, kind: String) throws(PodListError) -> [[String: Any]] {
        var skipped = 0
        return try objects(path, kind: kind, skipped: &skipped)
    }

    /// The objects of a file, counting in `skipped` the items that are no object of a kind:
    /// `null`, not a mapping, or without `metadata.name` and `metadata.uid` (`{}`). One bad item
    /// never hides the good ones beside it.
    static func objects(_ path: String, kind: String, skipped: inout Int) throws(PodListError) -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PodListError(path: path, reason: "cannot read the file")
        }
        let parsed: Any?
        let first = data.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        if first == UInt8(ascii: "{") {
            parsed = try? JSONSerialization.jsonObject(with: data)
        } else {
            parsed = (String(data: data, encoding: .utf8)).flatMap { try? Yams.load(yaml: $0) }
        }
        guard let root = parsed as? [String: Any] else {
            throw PodListError(path: path, reason: "not a Kubernetes object or list in JSON or YAML")
        }
        let items: [Any]
        if let list = root["items"] as? [Any] {
            items = list
        } else if root["items"] == nil || root["items"] is NSNull {
            // A List with `items: null` holds nothing; an object without `items` is itself the one.
            items = root["items"] is NSNull || (root["kind"] as? String)?.hasSuffix("List") == true ? [] : [root]
        } else {
            throw PodListError(path: path, reason: "'items' is not a list")
        }
        var objects: [[String: Any]] = []
        for item in items {
            guard let object = item as? [String: Any],
                string(object, "metadata", "name") != nil || string(object, "metadata", "uid") != nil
            else {
                skipped += 1
                continue
            }
            if (object["kind"] as? String).map({ $0 == kind }) ?? true { objects.append(object) }
        }
        return objects
    }

    private func table(pods: [[String: Any]], namespaces: [[String: Any]], nodes: [[String: Any]]) -> PodTable {
        let context = Context(loader: self, namespaces: namespaces, nodes: nodes)
        return Self.table(entries: pods.compactMap { context.entry(forPod: $0) })
    }

    /// A table of reduced pods.
    public static func table(entries: some Sequence<(pod: PodTable.Pod, identifiers: PodTable.Identifiers)>)
        -> PodTable
    {
        var table = PodTable()
        for entry in entries { table.add(entry.pod, identifiers: entry.identifiers) }
        return table
    }

    /// The configuration's filters and the namespace and node objects, ready to reduce pods
    /// one at a time (a watch of the Kubernetes API adds and removes them one by one).
    public struct Context: @unchecked Sendable {
        /// The loader, with the processor's configuration.
        public let loader: PodListLoader
        let namespaceByName: [String: [String: Any]]
        let nodeByName: [String: [String: Any]]
        let clusterUID: String?
        let excluded: [ByteRegex]
        let node: String?

        init(loader: PodListLoader, namespaces: [[String: Any]], nodes: [[String: Any]]) {
            self.loader = loader
            namespaceByName = Dictionary(
                namespaces.map { (PodListLoader.string($0, "metadata", "name") ?? "", $0) },
                uniquingKeysWith: { first, _ in first })
            nodeByName = Dictionary(
                nodes.map { (PodListLoader.string($0, "metadata", "name") ?? "", $0) },
                uniquingKeysWith: { first, _ in first })
            clusterUID = namespaceByName["kube-system"].flatMap { PodListLoader.string($0, "metadata", "uid") }
            excluded = loader.config.excludePods.compactMap { try? ByteRegex("^(?:" + $0 + ")$") }
            node = loader.config.filterNode ?? loader.config.filterNodeFromEnvVar.flatMap { loader.environment[$0] }
        }

        /// The pod reduced to what the configuration extracts, or nil when a filter or an
        /// exclusion leaves it out.
        public func entry(forPod pod: [String: Any]) -> (pod: PodTable.Pod, identifiers: PodTable.Identifiers)? {
            let config = loader.config
            let name = PodListLoader.string(pod, "metadata", "name") ?? ""
            let namespace = PodListLoader.string(pod, "metadata", "namespace") ?? ""
            if excluded.contains(where: { $0.isMatch(name) }) { return nil }
            if let node, PodListLoader.string(pod, "spec", "nodeName") != node { return nil }
            if let wanted = config.filterNamespace, namespace != wanted { return nil }
            let labels = PodListLoader.map(pod, "metadata", "labels")
            guard config.filterLabels.allSatisfy({ PodListLoader.passes($0, labels[$0.key]) }),
                config.filterFields.allSatisfy({ PodListLoader.passes($0, PodListLoader.field(pod, $0.key)) })
            else { return nil }
            let attributes = loader.extracted(
                pod, name: name, namespace: namespace, labels: labels, namespaceObject: namespaceByName[namespace],
                nodeObject: PodListLoader.string(pod, "spec", "nodeName").flatMap { nodeByName[$0] },
                clusterUID: clusterUID)
            var ips = (PodListLoader.value(pod, "status", "podIPs") as? [[String: Any]] ?? []).compactMap {
                $0["ip"] as? String
            }
            if let ip = PodListLoader.string(pod, "status", "podIP"), !ips.contains(ip) { ips.insert(ip, at: 0) }
            let containerIDs = ((PodListLoader.value(pod, "status", "containerStatuses") as? [[String: Any]]) ?? [])
                .compactMap {
                    ($0["containerID"] as? String).map { id in
                        id.range(of: "://").map { String(id[$0.upperBound...]) } ?? id
                    }
                }
            return (
                PodTable.Pod(attributes: attributes),
                PodTable.Identifiers(
                    uid: PodListLoader.string(pod, "metadata", "uid") ?? "", name: name, namespace: namespace, ips: ips,
                    containerIDs: containerIDs)
            )
        }
    }

    /// The context for reducing pods one by one: the namespace and node files, when configured.
    ///
    /// - Throws: `PodListError` naming a file that cannot be read.
    public func context() throws(PodListError) -> Context {
        let namespaces =
            try config.namespaceListFile.map { path throws(PodListError) in
                try Self.objects(path, kind: "Namespace")
            } ?? []
        let nodes =
            try config.nodeListFile.map { path throws(PodListError) in try Self.objects(path, kind: "Node") } ?? []
        return Context(loader: self, namespaces: namespaces, nodes: nodes)
    }

    func extracted(
        _ pod: [String: Any], name: String, namespace: String, labels: [String: String],
        namespaceObject: [String: Any]?, nodeObject: [String: Any]?, clusterUID: String?
    ) -> [(key: String, value: String)] {
        var attributes: [(key: String, value: String)] = []
        func put(_ key: String, _ value: String?) {
            guard let value, !value.isEmpty, !attributes.contains(where: { $0.key == key }) else { return }
            attributes.append((key, value))
        }
        let owners = Self.value(pod, "metadata", "ownerReferences") as? [[String: Any]] ?? []
        func owner(_ kind: String) -> String? {
            owners.first { $0["kind"] as? String == kind }?["name"] as? String
        }
        let replicaSet = owner("ReplicaSet")
        let job = owner("Job")
        let image = ((Self.value(pod, "spec", "containers") as? [[String: Any]])?.first?["image"] as? String)
            .map(Self.splitImage)
        for field in config.metadata {
            switch field {
            case "k8s.namespace.name": put(field, namespace)
            case "k8s.pod.name": put(field, name)
            case "k8s.pod.uid": put(field, Self.string(pod, "metadata", "uid"))
            case "k8s.pod.start_time": put(field, Self.string(pod, "status", "startTime"))
            case "k8s.node.name": put(field, Self.string(pod, "spec", "nodeName"))
            case "k8s.replicaset.name": put(field, replicaSet)
            case "k8s.deployment.name":
                put(field, replicaSet.flatMap(Self.deploymentName(ofReplicaSet:)))
            case "k8s.statefulset.name": put(field, owner("StatefulSet"))
            case "k8s.daemonset.name": put(field, owner("DaemonSet"))
            case "k8s.job.name": put(field, job)
            case "k8s.cronjob.name":
                // A CronJob's Job is named `<cronjob>-<scheduled time in minutes>`.
                if let job, let dash = job.lastIndex(of: "-"), job[job.index(after: dash)...].allSatisfy(\.isNumber),
                    job.index(after: dash) < job.endIndex
                {
                    put(field, String(job[..<dash]))
                }
            case "k8s.cluster.uid": put(field, clusterUID)
            case "container.image.name": put(field, image?.name)
            case "container.image.tag": put(field, image?.tag)
            default: break
            }
        }
        let sources: [FieldExtractionConfig.Source: [String: Any]] = [
            .pod: pod, .namespace: namespaceObject ?? [:], .node: nodeObject ?? [:],
        ]
        for (extractions, kind) in [(config.labels, "labels"), (config.annotations, "annotations")] {
            for extraction in extractions {
                let fields = Self.map(sources[extraction.from] ?? [:], "metadata", kind)
                for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
                    guard let tag = tagName(extraction, key: key, kind: kind) else { continue }
                    put(tag, valueGroup(extraction.valueRegex, value))
                }
            }
        }
        return attributes
    }

    /// The attribute name for `key`, or nil when the extraction does not take this key.
    private func tagName(_ extraction: FieldExtractionConfig, key: String, kind: String) -> String? {
        let defaultName = "k8s.\(extraction.from.rawValue).\(kind).\(key)"
        if let wanted = extraction.key {
            return wanted == key ? (extraction.tagName ?? defaultName) : nil
        }
        guard let pattern = extraction.keyRegex, let regex = patterns[Self.wholeKey(pattern)] else { return nil }
        let bytes = Array(key.utf8)
        guard let match = bytes.withUnsafeBytes({ regex.firstMatch($0) }) else { return nil }
        guard var name = extraction.tagName else { return defaultName }
        // `$1`…`$9` name the key regex's groups (the anchoring group added above captures nothing).
        for group in stride(from: 9, through: 1, by: -1) where group < match.count {
            let text = match[group].map { String(decoding: bytes[$0], as: UTF8.self) } ?? ""
            name = name.replacingOccurrences(of: "$\(group)", with: text)
        }
        return name
    }

    /// The `value` group of `regex` in `value` (or the whole value without a regex).
    private func valueGroup(_ pattern: String?, _ value: String) -> String? {
        guard let pattern else { return value }
        guard let regex = patterns[pattern], let index = regex.groupNames.firstIndex(of: "value") else {
            return nil
        }
        let bytes = Array(value.utf8)
        guard let match = bytes.withUnsafeBytes({ regex.firstMatch($0) }), let range = match[index] else { return nil }
        return String(decoding: bytes[range], as: UTF8.self)
    }

    static func splitImage(_ image: String) -> (name: String, tag: String?) {
        var name = image
        if let at = name.firstIndex(of: "@") { name = String(name[..<at]) }
        let slash = name.lastIndex(of: "/") ?? name.startIndex
        if let colon = name[slash...].lastIndex(of: ":") {
            return (String(name[..<colon]), String(name[name.index(after: colon)...]))
        }
        return (name, "latest")
    }

    static func passes(_ selector: PodSelectorConfig, _ value: String?) -> Bool {
        switch selector.operation {
        case .equals: value == selector.value
        case .notEquals: value != selector.value
        case .exists: value != nil
        case .doesNotExist: value == nil
        }
    }

    static func field(_ pod: [String: Any], _ path: String) -> String? {
        let parts = path.split(separator: ".").map(String.init)
        return value(pod, parts) as? String
    }

    static func value(_ object: [String: Any], _ path: String...) -> Any? { value(object, path) }

    static func value(_ object: [String: Any], _ path: [String]) -> Any? {
        var current: Any? = object
        for part in path { current = (current as? [String: Any])?[part] }
        return current
    }

    /// The string at a path of keys in a decoded JSON or YAML object.
    public static func string(_ object: [String: Any], _ path: String...) -> String? { value(object, path) as? String }

    static func map(_ object: [String: Any], _ path: String...) -> [String: String] {
        (value(object, path) as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
    }
}
