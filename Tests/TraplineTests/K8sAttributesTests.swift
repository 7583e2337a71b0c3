import Foundation
import Testing
@_spi(Plumbing) import TraplineCore
import TraplineStages
@_spi(Plumbing) import TraplineTestSupport

@_spi(Plumbing) @testable import Trapline

#if canImport(Glibc)
    import Glibc
#endif

/// `k8sattributes` with real pod lists (a kubelet `/pods` response and `kubectl` YAML from a
/// Kubernetes 1.35 cluster, in `Fixtures/k8s/`).
@Suite struct K8sAttributesTests {
    static let kubeletPods = Fixtures.path("k8s/kubelet-pods.json")

    static func config(_ body: (inout K8sAttributesConfig) -> Void = { _ in }) -> K8sAttributesConfig {
        var config = K8sAttributesConfig()
        config.podListFile = kubeletPods
        config.namespaceListFile = Fixtures.path("k8s/namespaces.yaml")
        body(&config)
        return config
    }

    /// The config fuzz target's timeout (`regressions/fuzz/config/long-key-regex.yaml`): its
    /// `key_regex` of a hundred `.`s was compiled again for every pod and key; compiled once, it
    /// still picks the keys it names.
    @Test func longKeyRegexIsCompiledOnceAndStillMatches() throws {
        let config = Self.config {
            var extraction = FieldExtractionConfig()
            extraction.keyRegex = "te.m|enviro" + String(repeating: ".", count: 97) + "nment|name"
            extraction.from = .namespace
            $0.labels = [extraction]
        }
        let (view, _) = try Self.enrich([("k8s.pod.ip", "10.244.0.8")], config: config)
        #expect(view.resourceAttributes["k8s.namespace.labels.name"] == "scraper")
        #expect(
            view.resourceAttributes.keys.filter { $0.hasPrefix("k8s.namespace.labels.") } == [
                "k8s.namespace.labels.name"
            ])
    }

    /// Runs a stage over one span whose resource has `attributes`; what a sink writes, and counts.
    static func enrich(_ attributes: [(String, String)], rules: [PodAssociationRule] = [], config: K8sAttributesConfig)
        throws -> (RecordView, StageCounts)
    {
        let table = try PodListLoader(config: config, environment: [:]).load()
        let stage = K8sAttributesStage(
            id: "k8sattributes", source: PodTableSource(path: nil, initial: table) { table }, rules: rules)
        let resource = attributes.map { #"{"key":"\#($0.0)","value":{"stringValue":"\#($0.1)"}}"# }
            .joined(separator: ",")
        var batch = TelemetryFixture.spans(
            #"{"resourceSpans":[{"resource":{"attributes":[\#(resource)]},"scopeSpans":[{"spans":[{"name":"s"}]}]}]}"#)
        var mask = RowMask()
        var counts: [StageCounts] = []
        StageChain([stage]).run(&batch, mask: &mask, counts: &counts)
        return (try #require(TelemetryFixture.view(batch, mask: mask).first), counts[0])
    }

    @Test func loadsKubeletAndKubectlListsAndRefusesSharedIPs() throws {
        let json = try PodListLoader(config: Self.config(), environment: [:]).load()
        #expect(json.count == 24)
        // Eight host-network pods share the node's IP: never used to associate.
        #expect(json.sharedIPCount == 1)
        #expect(json.isShared(ip: "192.168.67.2"))
        #expect(json.pod(ip: "192.168.67.2") == nil)
        var yaml = Self.config()
        yaml.podListFile = Fixtures.path("k8s/pods.yaml")
        #expect(try PodListLoader(config: yaml, environment: [:]).load().count == 25)
        var missing = Self.config()
        missing.podListFile = "/nonexistent/pods.json"
        #expect(throws: PodListError.self) { try PodListLoader(config: missing, environment: [:]).load() }
    }

    /// A `null` item, a `{}` item and a string item in a pod list are skipped and counted; the
    /// good pods beside them stay (a `null` item made the loader keep 0 pods, and `{}` counted as
    /// a pod).
    @Test func badPodListItemsAreSkippedAndCountedNotFatal() throws {
        let original = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.kubeletPods)))
        var list = try #require(original as? [String: Any])
        let items = try #require(list["items"] as? [Any])
        list["items"] = [NSNull(), [String: Any](), "a string"] + items + [NSNull()]
        let directory = try Fixtures.temporaryDirectory()
        let path = directory.appendingPathComponent("pods-with-holes.json").path
        try JSONSerialization.data(withJSONObject: list).write(to: URL(fileURLWithPath: path))
        let config = Self.config { $0.podListFile = path }
        let table = try PodListLoader(config: config, environment: [:]).load()
        #expect(table.count == 24)
        #expect(table.skippedItems == 4)
        let (view, counts) = try Self.enrich([("k8s.pod.ip", "10.244.0.8")], config: config)
        #expect(view.resourceAttributes["k8s.pod.name"] == "e2e-deployment-79967c5968-8bnn8")
        #expect(counts.podTableSize == 24 && counts.podListItemsSkipped == 4)
    }

    /// The Deployment is derived from the ReplicaSet's name as the Collector does: a 10-character
    /// lowercase-alphanumeric suffix is the hash, whatever the `pod-template-hash` label says.
    @Test(
        arguments: [
            ("shop-api-79967c5968", "shop-api"),
            ("my-app-v2-5d8b9f6c7a", "my-app-v2"),
            ("shop-api-79967C5968", nil),
            ("shop-api-7996", nil),
            ("noreplicasethash", nil),
            ("-79967c5968", nil),
        ] as [(String, String?)])
    func deploymentNameComesFromTheReplicaSetName(replicaSet: String, deployment: String?) {
        #expect(PodListLoader.deploymentName(ofReplicaSet: replicaSet) == deployment)
    }

    @Test func associatesByIPAndDerivesTheDeployment() throws {
        let (view, counts) = try Self.enrich([("k8s.pod.ip", "10.244.0.8")], config: Self.config())
        #expect(view.resourceAttributes["k8s.pod.name"] == "e2e-deployment-79967c5968-8bnn8")
        #expect(view.resourceAttributes["k8s.namespace.name"] == "scraper")
        #expect(view.resourceAttributes["k8s.pod.uid"] == "da59f36e-a7a8-46ed-8d9d-36392eb967d4")
        #expect(view.resourceAttributes["k8s.deployment.name"] == "e2e-deployment")
        #expect(view.resourceAttributes["k8s.node.name"] == "datagen-1-35")
        #expect(view.resourceAttributes["k8s.pod.start_time"] == "2026-06-26T10:12:51Z")
        #expect(counts.associationLookups == 1 && counts.associationMisses == 0 && counts.podTableSize == 24)
    }

    /// Metrics (issue 25): a metric resource is associated like any other, once per resource,
    /// and its points are written under the enriched resource.
    @Test func metricResourcesAreEnrichedToo() throws {
        let table = try PodListLoader(config: Self.config(), environment: [:]).load()
        let stage = K8sAttributesStage(
            id: "k8sattributes", source: PodTableSource(path: nil, initial: table) { table }, rules: [])
        let json = #"""
            {"resourceMetrics":[{"resource":{"attributes":[{"key":"k8s.pod.ip","value":{"stringValue":"10.244.0.8"}}]},
            "scopeMetrics":[{"metrics":[{"name":"m","gauge":{"dataPoints":[{"asInt":"1"},{"asInt":"2"}]}}]}]}]}
            """#
        var batch = MetricBatch()
        let input = InputBuffer(Array(json.utf8))
        OTLPJSONDecoder().decodeMetrics(input: input, frame: 0..<input.bytes.count, sourceOffset: 0, into: &batch)
        var mask = RowMask()
        var counts: [StageCounts] = []
        StageChain([stage]).run(&batch, mask: &mask, counts: &counts)
        #expect(counts[0].associationLookups == 1 && counts[0].associationMisses == 0)
        var out: [UInt8] = []
        OTLPJSONEncoder().encode(batch, keeping: mask, into: &out)
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.contains(#"{"key":"k8s.pod.name","value":{"stringValue":"e2e-deployment-79967c5968-8bnn8"}}"#))
        #expect(text.components(separatedBy: #""asInt""#).count == 3)
    }

    @Test func associatesByUIDByNameAndByContainer() throws {
        let (byUID, _) = try Self.enrich(
            [("k8s.pod.uid", "36447428-81f8-45eb-b825-414de2e8012b")], config: Self.config())
        #expect(byUID.resourceAttributes["k8s.pod.name"] == "coredns-7d764666f9-qdcxt")
        let byName = try Self.enrich(
            [("k8s.pod.name", "e2e-statefulset-1"), ("k8s.namespace.name", "scraper")],
            rules: [
                PodAssociationRule(sources: [
                    .resourceAttribute("k8s.pod.name"), .resourceAttribute("k8s.namespace.name"),
                ])
            ],
            config: Self.config { $0.metadata = ["k8s.pod.uid", "k8s.statefulset.name"] }
        ).0
        #expect(byName.resourceAttributes["k8s.statefulset.name"] == "e2e-statefulset")
        #expect(byName.resourceAttributes["k8s.pod.uid"]?.hasPrefix("b74071bf") == true)
        let byContainer = try Self.enrich(
            [("container.id", "1049c9e937cb297fed12045bff1cf9495bd4c2b1df2c3f0cdbf448e7cf752c99")],
            rules: [PodAssociationRule(sources: [.resourceAttribute("container.id")])],
            config: Self.config {
                $0.metadata = [
                    "k8s.job.name", "k8s.cronjob.name", "container.image.name", "container.image.tag",
                    "k8s.cluster.uid",
                ]
            }
        ).0
        #expect(byContainer.resourceAttributes["k8s.job.name"] == "e2e-cronjob-29707813")
        #expect(byContainer.resourceAttributes["k8s.cronjob.name"] == "e2e-cronjob")
        #expect(byContainer.resourceAttributes["container.image.name"] == "docker.io/library/perl")
        #expect(byContainer.resourceAttributes["container.image.tag"] == "5.34.0")
        #expect(byContainer.resourceAttributes["k8s.cluster.uid"]?.hasPrefix("0a8fd47f") == true)
    }

    /// Drops every span of the resources whose index `drops` accepts (so the next stage sees
    /// resources with nothing kept).
    struct DropResources: Stage {
        let id = "drop"
        let drops: @Sendable (Int) -> Bool

        func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts) {
            for (index, resource) in batch.resources.enumerated() where drops(index) {
                for scope in resource.scopes.range {
                    for row in batch.scopes[scope].rows.range where mask.drop(row) { counts.filtered += 1 }
                }
            }
        }

        func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts) {}
    }

    /// Many resources in one batch (more than the stage looks up at once), associated by every
    /// kind of identifier, with misses, a shared IP and resources whose spans were all dropped
    /// in between: each resource gets its own pod's attributes and the counts add up.
    @Test func eachOfManyResourcesGetsItsOwnPod() throws {
        var table = PodTable()
        for index in 0..<2_000 {
            table.add(
                PodTable.Pod(attributes: [("k8s.pod.name", "pod-\(index)"), ("pod.index", "\(index)")]),
                identifiers: PodTable.Identifiers(
                    uid: "uid-\(index)", name: "pod-\(index)", namespace: "ns-\(index % 7)",
                    // Pods 1990...1999 run on the host network: they share one IP.
                    ips: [index >= 1_990 ? "192.168.0.1" : "10.\(index / 256).\(index % 256).1"],
                    containerIDs: ["c\(index)"]))
        }
        #expect(table.count == 2_000 && table.sharedIPCount == 1)
        let loaded = table
        let stage = K8sAttributesStage(
            id: "k8sattributes", source: PodTableSource(path: nil, initial: loaded) { loaded },
            rules: [
                PodAssociationRule(sources: [.resourceAttribute("k8s.pod.ip")]),
                PodAssociationRule(sources: [.resourceAttribute("k8s.pod.uid")]),
                PodAssociationRule(
                    sources: [.resourceAttribute("k8s.pod.name"), .resourceAttribute("k8s.namespace.name")]),
                PodAssociationRule(sources: [.resourceAttribute("container.id")]),
            ])
        // Resource r: what it carries, and the pod it must get (nil: a miss).
        var resources: [(attributes: [(String, String)], pod: Int?)] = []
        for r in 0..<83 {
            let pod = (r * 37) % 1_990
            switch r % 6 {
            case 0: resources.append(([("k8s.pod.ip", "10.\(pod / 256).\(pod % 256).1")], pod))
            case 1: resources.append(([("k8s.pod.uid", "uid-\(pod)")], pod))
            case 2: resources.append(([("k8s.pod.name", "pod-\(pod)"), ("k8s.namespace.name", "ns-\(pod % 7)")], pod))
            case 3: resources.append(([("container.id", "c\(pod)")], pod))
            case 4: resources.append(([("k8s.pod.name", "pod-\(pod)"), ("k8s.namespace.name", "wrong")], nil))
            default: resources.append(([("k8s.pod.ip", "192.168.0.1")], nil))
            }
        }
        let json = resources.enumerated().map { index, resource in
            let attributes = (resource.attributes + [("r", "\(index)")])
                .map { #"{"key":"\#($0.0)","value":{"stringValue":"\#($0.1)"}}"# }.joined(separator: ",")
            return #"{"resource":{"attributes":[\#(attributes)]},"scopeSpans":[{"spans":[{"name":"s\#(index)"}]}]}"#
        }.joined(separator: ",")
        var batch = TelemetryFixture.spans(#"{"resourceSpans":[\#(json)]}"#)
        var mask = RowMask()
        var counts: [StageCounts] = []
        let dropped: @Sendable (Int) -> Bool = { $0 % 10 == 9 }
        StageChain([DropResources(drops: dropped), stage]).run(&batch, mask: &mask, counts: &counts)

        let views = TelemetryFixture.view(batch, mask: mask)
        #expect(views.count == 83 - 8)
        for view in views {
            let r = try #require(Int(view.resourceAttributes["r"] ?? ""))
            if let pod = resources[r].pod {
                #expect(view.resourceAttributes["pod.index"] == "\(pod)", "resource \(r)")
            } else {
                #expect(view.resourceAttributes["pod.index"] == nil, "resource \(r)")
            }
        }
        let live = (0..<83).filter { !dropped($0) }
        #expect(counts[1].associationLookups == live.count)
        #expect(counts[1].associationMisses == live.filter { resources[$0].pod == nil }.count)
        #expect(counts[1].sharedIPMisses == live.filter { $0 % 6 == 5 }.count)
    }

    @Test func missesAreCountedWithTheirReason() throws {
        let (shared, sharedCounts) = try Self.enrich([("k8s.pod.ip", "192.168.67.2")], config: Self.config())
        #expect(shared.resourceAttributes["k8s.pod.name"] == nil)
        #expect(sharedCounts.associationMisses == 1 && sharedCounts.sharedIPMisses == 1)
        let (_, unknown) = try Self.enrich([("k8s.pod.ip", "10.9.9.9")], config: Self.config())
        #expect(unknown.associationMisses == 1 && unknown.sharedIPMisses == 0)
        // A connection rule has no peer in a replay: no rule applies.
        let (_, connection) = try Self.enrich(
            [("k8s.pod.ip", "10.244.0.8")], rules: [PodAssociationRule(sources: [.connection])], config: Self.config())
        #expect(connection.associationMisses == 1)
    }

    @Test func existingResourceAttributesWin() throws {
        let (view, _) = try Self.enrich(
            [("k8s.pod.ip", "10.244.0.8"), ("k8s.namespace.name", "mine")], config: Self.config())
        #expect(view.resourceAttributes["k8s.namespace.name"] == "mine")
        #expect(view.resourceAttributes["k8s.pod.name"] == "e2e-deployment-79967c5968-8bnn8")
    }

    @Test func labelsAndAnnotationsByKeyAndByRegex() throws {
        let config = Self.config {
            var byKey = FieldExtractionConfig()
            byKey.key = "app"
            var byRegex = FieldExtractionConfig()
            byRegex.keyRegex = "pod-template-(.*)"
            byRegex.tagName = "template.$1"
            var namespaceLabel = FieldExtractionConfig()
            namespaceLabel.key = "name"
            namespaceLabel.from = .namespace
            $0.labels = [byKey, byRegex, namespaceLabel]
            var annotation = FieldExtractionConfig()
            annotation.keyRegex = "kubernetes\\.io/config\\..*"
            var valuePart = FieldExtractionConfig()
            valuePart.key = "kubernetes.io/config.seen"
            valuePart.tagName = "seen.date"
            valuePart.valueRegex = "^(?P<value>\\d{4}-\\d{2}-\\d{2})T"
            $0.annotations = [annotation, valuePart]
        }
        let (view, _) = try Self.enrich([("k8s.pod.ip", "10.244.0.8")], config: config)
        #expect(view.resourceAttributes["k8s.pod.labels.app"] == "deployment")
        #expect(view.resourceAttributes["template.hash"] == "79967c5968")
        #expect(view.resourceAttributes["k8s.namespace.labels.name"] == "scraper")
        #expect(view.resourceAttributes["k8s.pod.annotations.kubernetes.io/config.source"] == "api")
        #expect(view.resourceAttributes["seen.date"] == "2026-06-26")
    }

    @Test func filtersAndExclusionsKeepOnlyTheWantedPods() throws {
        let config = Self.config {
            $0.filterNamespace = "scraper"
            var label = PodSelectorConfig()
            label.key = "app"
            label.value = "failjob"
            label.operation = .notEquals
            $0.filterLabels = [label]
            $0.excludePods = ["e2e-statefulset-.*"]
        }
        let table = try PodListLoader(config: config, environment: [:]).load()
        // 15 pods in scraper, less 4 failjob pods and 2 statefulset pods.
        #expect(table.count == 9)
        #expect(table.pod(name: "e2e-statefulset-0", namespace: "scraper") == nil)
        #expect(table.pod(name: "e2e-deployment-79967c5968-8bnn8", namespace: "scraper") != nil)
    }

    @Test func aChangedPodListIsReloadedAndABadOneKeepsTheLastGoodTable() throws {
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("pods.json").path
        let original = try String(contentsOfFile: Self.kubeletPods, encoding: .utf8)
        try original.write(toFile: path, atomically: false, encoding: .utf8)
        let config = Self.config { $0.podListFile = path }
        let loader = PodListLoader(config: config, environment: [:])
        let source = PodTableSource(path: path, initial: try loader.load(), checkInterval: 0) { try loader.load() }
        #expect(source.current().count == 24)
        // The same cluster without one pod; the file's time moves on.
        let fewer = original.replacingOccurrences(of: "coredns-7d764666f9-qdcxt", with: "renamed-pod")
        try fewer.write(toFile: path, atomically: false, encoding: .utf8)
        var times = [timespec(tv_sec: 2_000_000_000, tv_nsec: 0), timespec(tv_sec: 2_000_000_000, tv_nsec: 0)]
        utimensat(AT_FDCWD, path, &times, 0)
        #expect(source.current().pod(name: "renamed-pod", namespace: "kube-system") != nil)
        try "{ not json".write(toFile: path, atomically: false, encoding: .utf8)
        times[0].tv_sec += 10
        times[1].tv_sec += 10
        utimensat(AT_FDCWD, path, &times, 0)
        #expect(source.current().count == 24)
        #expect(source.reloadFailures == 1)
    }

    @Test func pipelineFilesUseTheCollectorSchema() throws {
        let yaml = """
            receivers:
              stdin:
            processors:
              k8sattributes:
                auth_type: serviceAccount
                pod_list_file: \(Self.kubeletPods)
                extract:
                  metadata: [k8s.pod.name, k8s.deployment.name, k8s.pod.nmae]
                  labels:
                    - tag_name: l1
                      key: app
                      from: pod
                    - key_regex: "("
                pod_association:
                  - sources:
                      - from: resource_attribute
                        name: k8s.pod.ip
                  - sources:
                      - from: resource_attribute
                        name: k8s.pod.name
                  - sources:
                      - from: connection
              k8sattributes/api:
                auth_type: kubeConfig
            exporters:
              stdout:
            service:
              pipelines:
                traces:
                  receivers: [stdin]
                  processors: [k8sattributes]
                  exporters: [stdout]
            """
        let found = ConfigLoader.load(yaml: yaml, file: "k8s.yaml").diagnostics.sorted
        try #require(found.map(\.line) == [8, 13, 18, 23], "\(found.map(\.description))")
        #expect(found[0].hint == "did you mean 'k8s.pod.name'?")
        #expect(found[1].message.contains("missing ')'"))
        #expect(found[2].message.contains("only together"))
        #expect(found[3].hint?.contains("pod_list_file") == true)
    }
}
