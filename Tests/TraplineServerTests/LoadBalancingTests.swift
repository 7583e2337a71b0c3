import Foundation
import Testing
@_spi(Plumbing) import Trapline
import TraplineCore
import TraplineTestSupport

@_spi(Plumbing) @testable import TraplineServer

/// The `loadbalancing` exporter's parts in process: the ring's shares and stability, and the
/// request splitter (lossless, and every record where its routing key sends it).
@Suite struct LoadBalancingTests {
    static let gateways = ["127.0.0.1:24401", "127.0.0.1:24402", "127.0.0.1:24403"]

    /// 100,000 random trace ids spread within 10% of even over three backends, on the names a
    /// loopback test uses and on names a Kubernetes deployment would.
    @Test(arguments: [
        gateways, ["gateway-1:4317", "gateway-2:4317", "gateway-3:4317"],
        ["10.1.0.7:4317", "10.1.1.7:4317", "10.1.2.7:4317"],
    ])
    func sharesOfRandomTraceIDsAreWithinTenPercentOfEven(backends: [String]) {
        let ring = HashRing(backends: backends)
        var random = SeededRandom(seed: 11)
        var counts = [Int](repeating: 0, count: backends.count)
        let total = 100_000
        for _ in 0..<total {
            let id = random.bytes(16)
            counts[id.withUnsafeBytes { ring.backend(for: $0)! }] += 1
        }
        for count in counts {
            let share = Double(count) * Double(backends.count) / Double(total)
            #expect(abs(share - 1) < 0.10, "shares \(counts)")
        }
    }

    /// Removing a backend moves only the identities it owned; adding one moves identities only
    /// to the new backend.
    @Test func removingOrAddingABackendMovesOnlyItsShare() {
        let three = HashRing(backends: Self.gateways)
        let two = HashRing(backends: [Self.gateways[0], Self.gateways[2]])
        let four = HashRing(backends: Self.gateways + ["127.0.0.1:24404"])
        var random = SeededRandom(seed: 5)
        var moved = 0
        for _ in 0..<20_000 {
            let id = random.bytes(16)
            let (before, after, added) = id.withUnsafeBytes {
                (three.backend(for: $0)!, two.backend(for: $0)!, four.backend(for: $0)!)
            }
            if before != 1 {
                // Still on the same gateway (index 1 of `two` is the third gateway).
                #expect(two.backends[after] == three.backends[before])
            } else {
                moved += 1
            }
            #expect(added == before || four.backends[added] == "127.0.0.1:24404")
        }
        // About a third moved: the removed backend's share, no more.
        #expect((5_000...8_500).contains(moved))
    }

    @Test func aRingWithoutBackendsRoutesNowhere() {
        let ring = HashRing(backends: [])
        #expect([UInt8](repeating: 1, count: 16).withUnsafeBytes { ring.backend(for: $0) } == nil)
    }

    // MARK: Resolvers and the backend list

    /// `dns`: a name's addresses with the port, sorted; a name that does not resolve is a failed
    /// resolution (the list stays as it was).
    @Test func dnsResolvesNamesToAddressesWithThePort() throws {
        let found = try DNSResolver.addresses("localhost", port: 4317).get()
        #expect(found.contains("127.0.0.1:4317"), "\(found)")
        #expect(found == found.sorted())
        if case .success(let list) = DNSResolver.resolve("trapline-test.invalid", port: 4317, timeoutSeconds: 2) {
            Issue.record("an .invalid name resolved to \(list)")
        }
    }

    /// A backend taken off the ring hands its queue to the backends that own those traces now:
    /// scaling down loses nothing queued. (The exporter is not started, so nothing is sent.)
    @Test func aRemovedBackendsQueueIsRoutedAgain() throws {
        var template = OTLPExporterConfig()
        template.tls.insecure = true
        var settings = LoadBalancingSettings()
        settings.resolver = .fixed([])
        let exporter = LoadBalancingExporter(
            id: "loadbalancing", template: template, settings: settings, signals: [.traces], batch: nil)
        exporter.resolved(.success(["127.0.0.1:1", "127.0.0.1:2"]))
        var generator = RequestGenerator(seed: 8)
        var records = 0
        for _ in 0..<30 {
            let request = generator.traceRequest(maxResources: 2, maxSpans: 6)
            let count = try Self.records(request, signal: .traces).count
            records += count
            exporter.send(signal: .traces, body: request, records: count)
        }
        func queued(_ endpoint: String) -> Int {
            let prefix = #"trapline_exporter_queue_size{exporter="loadbalancing",endpoint="\#(endpoint)"} "#
            return exporter.exposition.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap {
                Int($0.dropFirst(prefix.count))
            } ?? -1
        }
        #expect(queued("127.0.0.1:2") > 0)
        exporter.resolved(.success(["127.0.0.1:1"]))
        #expect(queued("127.0.0.1:2") == 0)
        // Every record is queued at the one backend left (nothing failed, nothing lost).
        var queuedRecords = 0
        let backend = try #require(exporter.backendsForTesting.first)
        for item in backend.takeQueued() { queuedRecords += item.records }
        #expect(queuedRecords == records)
        exporter.drain(until: Date())
    }

    /// `dns` resolves again every `interval`: the exporter's resolutions keep counting, and the
    /// ring holds the name's addresses.
    @Test func dnsResolvesAgainOnItsInterval() throws {
        var template = OTLPExporterConfig()
        template.tls.insecure = true
        var settings = LoadBalancingSettings()
        settings.resolver = .dns(hostname: "localhost", port: 4317, intervalSeconds: 0.05, timeoutSeconds: 1)
        let exporter = LoadBalancingExporter(
            id: "loadbalancing", template: template, settings: settings, signals: [.traces], batch: nil)
        exporter.start()
        defer { exporter.drain(until: Date()) }
        let resolved = #"trapline_loadbalancer_resolutions_total{exporter="loadbalancing",success="true"} "#
        func resolutions() -> Int {
            exporter.exposition.split(separator: "\n").first { $0.hasPrefix(resolved) }.flatMap {
                Int($0.dropFirst(resolved.count))
            } ?? 0
        }
        #expect(FileChanges.eventually(seconds: 10) { resolutions() >= 5 })
        #expect(exporter.backends.contains("127.0.0.1:4317"), "\(exporter.backends)")
        // The same answer each time: the ring was built once.
        #expect(
            exporter.exposition.contains(#"trapline_loadbalancer_backend_updates_total{exporter="loadbalancing"} 1"#))
    }

    /// A new list rebuilds the ring and keeps the backends that stay (with their queues); the
    /// same list again changes nothing; a failed resolution keeps the list; the metrics say so.
    @Test func backendListUpdatesRebuildTheRingAndKeepStayingBackends() throws {
        var template = OTLPExporterConfig()
        template.tls.insecure = true
        template.maxElapsedSeconds = 0.1
        var settings = LoadBalancingSettings()
        settings.resolver = .fixed(["127.0.0.1:1"])
        let exporter = LoadBalancingExporter(
            id: "loadbalancing", template: template, settings: settings, signals: [.traces], batch: nil)
        // Nothing is known before the first resolution: requests are refused, not taken.
        #expect(!exporter.reserve())
        exporter.resolved(.success(["127.0.0.1:1", "127.0.0.1:2"]))
        #expect(exporter.backends == ["127.0.0.1:1", "127.0.0.1:2"])
        #expect(exporter.reserve())
        exporter.release()
        exporter.resolved(.success(["127.0.0.1:1", "127.0.0.1:2"]))
        exporter.resolved(.failure(BackendResolverError(description: "timed out")))
        exporter.resolved(.success(["127.0.0.1:2", "127.0.0.1:3"]))
        #expect(exporter.backends == ["127.0.0.1:2", "127.0.0.1:3"])
        let text = exporter.exposition
        for line in [
            #"trapline_loadbalancer_backends{exporter="loadbalancing"} 2"#,
            #"trapline_loadbalancer_resolutions_total{exporter="loadbalancing",success="true"} 3"#,
            #"trapline_loadbalancer_resolutions_total{exporter="loadbalancing",success="false"} 1"#,
            #"trapline_loadbalancer_backend_updates_total{exporter="loadbalancing"} 2"#,
            #"trapline_loadbalancer_refused_requests_total{exporter="loadbalancing"} 1"#,
            // The retired backend's series stay (its accounting is not lost with it).
            #"trapline_exporter_sent_records_total{exporter="loadbalancing",endpoint="127.0.0.1:1"} 0"#,
            #"trapline_exporter_sent_records_total{exporter="loadbalancing",endpoint="127.0.0.1:3"} 0"#,
        ] {
            #expect(text.contains(line), "\(text)")
        }
        #expect(text.components(separatedBy: "# TYPE trapline_exporter_sent_records_total").count == 2)
        exporter.drain(until: Date())
    }

    // MARK: Splitting

    /// Traces and logs by trace id, service and resource: every record of the request is in
    /// exactly one part, with its resource and scope as they were, and the parts' counts add up.
    @Test(arguments: [OTLPRoutingKey.traceID, .service, .resource])
    func splittingTracesAndLogsLosesAndAddsNothing(key: OTLPRoutingKey) throws {
        var generator = RequestGenerator(seed: 21)
        for round in 0..<200 {
            let signal: Signal = round % 2 == 0 ? .traces : .logs
            let request =
                signal == .traces
                ? generator.traceRequest(maxResources: 4, maxSpans: 8)
                : generator.logsRequest(maxResources: 4, maxRecords: 8)
            try checkSplit(request, signal: signal, key: key, destinations: 3)
        }
    }

    /// Metrics by service, resource, metric name and stream, over every data point type.
    @Test(arguments: OTLPRoutingKey.allCases.filter { $0.signals.contains(.metrics) })
    func splittingMetricsLosesAndAddsNothing(key: OTLPRoutingKey) throws {
        let request = try Self.metricsRequest()
        let parts = try checkSplit(request, signal: .metrics, key: key, destinations: 3)
        #expect(parts.filter { $0.records > 0 }.count > 1, "the test metrics spread over more than one backend")
    }

    /// By trace id, the spans of one trace are in one part and each part holds only the traces
    /// the ring gives its backend.
    @Test func splittingByTraceIDKeepsEachTraceInThePartOfItsBackend() throws {
        var generator = RequestGenerator(seed: 3)
        let ring = HashRing(backends: Self.gateways)
        for _ in 0..<100 {
            let request = generator.traceRequest(maxResources: 3, maxSpans: 10)
            let parts = try request.withUnsafeBytes { bytes in
                try OTLPRequestSplitter.split(bytes, signal: .traces, key: .traceID, destinations: 3) { identity in
                    identity.isEmpty ? 0 : ring.backend(for: identity)!
                }
            }
            for (index, part) in parts.enumerated() {
                for record in try Self.records(part.body, signal: .traces) {
                    // A generated span may leave its trace id out: spread like an empty one.
                    let traceID = Self.field(1, of: record) ?? []
                    if !traceID.isEmpty { #expect(traceID.withUnsafeBytes { ring.backend(for: $0) } == index) }
                }
            }
        }
    }

    /// Splits, checks the parts against the request, and returns them.
    @discardableResult
    func checkSplit(_ request: [UInt8], signal: Signal, key: OTLPRoutingKey, destinations: Int) throws
        -> [OTLPRequestSplitter.Part]
    {
        let ring = HashRing(backends: Array(Self.gateways.prefix(destinations)))
        var spread = 0
        let parts = try request.withUnsafeBytes { bytes in
            try OTLPRequestSplitter.split(bytes, signal: signal, key: key, destinations: destinations) { identity in
                spread += 1
                return identity.isEmpty ? spread % destinations : ring.backend(for: identity)!
            }
        }
        let original = try Self.flattened(request, signal: signal)
        var union: [String] = []
        for part in parts {
            let records = try Self.flattened(part.body, signal: signal)
            #expect(records.count == part.records)
            union += records
        }
        #expect(union.sorted() == original.sorted())
        return parts
    }

    // MARK: Walking requests independently of the splitter

    /// One line per record: the own fields (not children) of each container around it, then
    /// the record's bytes, in hex.
    static func flattened(_ request: [UInt8], signal: Signal) throws -> [String] {
        var lines: [String] = []
        let depth = signal == .metrics ? 4 : 2
        func walk(_ bytes: [UInt8], level: Int, prefix: String) throws {
            var wrapper: [UInt8] = []
            var children: [[UInt8]] = []
            for field in try fields(bytes) {
                let isChild =
                    switch level {
                    case 0: field.number == 1
                    case 1, 2: field.number == 2
                    case 3: [5, 7, 9, 10, 11].contains(field.number)
                    default: field.number == 1
                    }
                if isChild { children.append(field.content) } else { wrapper += field.raw }
            }
            let here = level == 0 ? "" : prefix + hex(wrapper) + "|"
            for child in children {
                if level + 1 == depth + 1 {
                    lines.append(here + hex(child))
                } else {
                    try walk(child, level: level + 1, prefix: here)
                }
            }
        }
        try walk(request, level: 0, prefix: "")
        return lines
    }

    /// The records of a request (for signals other than metrics).
    static func records(_ request: [UInt8], signal: Signal) throws -> [[UInt8]] {
        var found: [[UInt8]] = []
        for resource in try fields(request) where resource.number == 1 {
            for scope in try fields(resource.content) where scope.number == 2 {
                for record in try fields(scope.content) where record.number == 2 { found.append(record.content) }
            }
        }
        return found
    }

    static func field(_ number: UInt32, of message: [UInt8]) -> [UInt8]? {
        (try? fields(message))?.first { $0.number == number }?.content
    }

    struct Field {
        var number: UInt32
        var raw: [UInt8]
        var content: [UInt8]
    }

    static func fields(_ bytes: [UInt8]) throws -> [Field] {
        try bytes.withUnsafeBytes { buffer throws(DecodeError) in
            var reader = WireReader(frame: buffer)
            var result: [Field] = []
            while let (tag, start) = try reader.nextField() {
                if tag.wireType == .lengthDelimited {
                    let region = try reader.readLengthDelimited()
                    result.append(
                        Field(
                            number: tag.number, raw: Array(buffer[start..<reader.position]),
                            content: Array(buffer[region])))
                } else {
                    try reader.skipField(tag, depth: 0, maxDepth: 64)
                    result.append(Field(number: tag.number, raw: Array(buffer[start..<reader.position]), content: []))
                }
            }
            return result
        }
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// Metrics of every type over six services, two scopes and points with attributes, as
    /// OTLP JSON decoded and encoded by Trapline.
    static func metricsRequest() throws -> [UInt8] {
        func points(_ kind: String, _ count: Int) -> String {
            (0..<count).map { index in
                let attributes =
                    #"[{"key":"route","value":{"stringValue":"/r\#(index % 4)"}},{"key":"code","value":{"intValue":"\#(200 + index)"}}]"#
                switch kind {
                case "histogram":
                    return
                        #"{"attributes":\#(attributes),"timeUnixNano":"1700000000000000000","count":"3","sum":6,"bucketCounts":["1","2"],"explicitBounds":[1]}"#
                case "exponentialHistogram":
                    return
                        #"{"attributes":\#(attributes),"timeUnixNano":"1700000000000000000","count":"2","scale":1,"positive":{"offset":0,"bucketCounts":["2"]}}"#
                case "summary":
                    return
                        #"{"attributes":\#(attributes),"timeUnixNano":"1700000000000000000","count":"2","sum":3,"quantileValues":[{"quantile":0.5,"value":1}]}"#
                default:
                    return #"{"attributes":\#(attributes),"timeUnixNano":"1700000000000000000","asDouble":\#(index)}"#
                }
            }.joined(separator: ",")
        }
        func metric(_ name: String, _ kind: String) -> String {
            let extra = kind == "sum" ? #","aggregationTemporality":2,"isMonotonic":true"# : ""
            return #"{"name":"\#(name)","unit":"1","\#(kind)":{"dataPoints":[\#(points(kind, 6))]\#(extra)}}"#
        }
        let kinds = ["gauge", "sum", "histogram", "exponentialHistogram", "summary"]
        let resources = (0..<6).map { service in
            let scopes = (0..<2).map { scope in
                let metrics = kinds.enumerated().map { metric("m.\(scope).\($0.offset)", $0.element) }.joined(
                    separator: ",")
                return #"{"scope":{"name":"lib\#(scope)","version":"1.\#(scope)"},"metrics":[\#(metrics)]}"#
            }.joined(separator: ",")
            return
                #"{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc-\#(service)"}},{"key":"host.name","value":{"stringValue":"h\#(service)"}}]},"scopeMetrics":[\#(scopes)]}"#
        }.joined(separator: ",")
        let json = Array(#"{"resourceMetrics":[\#(resources)]}"#.utf8)
        var batch = MetricBatch()
        OTLPJSONDecoder().decodeMetrics(input: InputBuffer(json), frame: 0..<json.count, sourceOffset: 0, into: &batch)
        #expect(batch.rejections.errors.isEmpty)
        let bytes = TestDecode.encode(batch)
        #expect(try flattened(bytes, signal: .metrics).count == 6 * 2 * 5 * 6)
        return bytes
    }
}
