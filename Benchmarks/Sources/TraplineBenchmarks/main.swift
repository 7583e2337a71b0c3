// Decode throughput of Trapline against its peers in the same process: libprotobuf-c unpacking
// the same bytes, and a plain byte scan of the same buffer (the memory-bandwidth limit).
// Usage: TraplineBenchmarks STREAM [--thresholds FILE]
// STREAM is a 4-byte big-endian length-prefixed OTLP trace stream (Benchmarks/run.sh makes one).
import COTLPOracle
import CPeers
import CSimdjsonPeer
import CTraplineABI
import Dispatch
import Foundation
import MallocCounter
@_spi(Plumbing) import Trapline
@_spi(Plumbing) import TraplineCore
import TraplineStages

struct Measurement {
    var name: String
    var seconds: Double
    var spans: Int
    var bytes: Int
    var allocations: UInt64

    var spansPerSecond: Double { Double(spans) / seconds }
    var megabytesPerSecond: Double { Double(bytes) / seconds / 1_000_000 }
}

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// TRAPLINE_RULES_PROBE: only decode and the rule probes run (for profiling them).
let probing = ProcessInfo.processInfo.environment["TRAPLINE_RULES_PROBE"] != nil

/// Best of `rounds` runs of `body` over the whole stream (after one warm-up run).
func measure(_ name: String, spans: Int, bytes: Int, rounds: Int = 7, _ body: () -> Void) -> Measurement {
    if probing && name != "trapline decode" && !name.hasPrefix("probe ") {
        return Measurement(name: name, seconds: 1, spans: spans, bytes: bytes, allocations: 0)
    }
    body()
    var best = Double.infinity
    var allocations: UInt64 = .max
    for _ in 0..<rounds {
        let before = malloc_counter_allocations()
        let start = now()
        body()
        best = min(best, now() - start)
        allocations = min(allocations, malloc_counter_allocations() - before)
    }
    return Measurement(name: name, seconds: best, spans: spans, bytes: bytes, allocations: allocations)
}

/// `subject`'s speed as a ratio of `reference`'s, measured in alternating pairs (reference,
/// subject, reference, …) after a warm-up of each: every pair gives a ratio and the median is
/// reported. A slow spell of the machine then hits both sides of a pair; best-of runs measured
/// one after the other drifted by up to 1.7x between runs on these machines.
func pairedRatio(pairs: Int = 11, reference: () -> Void, subject: () -> Void) -> Double {
    if probing { return 1 }
    reference()
    subject()
    var ratios: [Double] = []
    for _ in 0..<pairs {
        var start = now()
        reference()
        let referenceSeconds = now() - start
        start = now()
        subject()
        ratios.append(referenceSeconds / (now() - start))
    }
    return ratios.sorted()[pairs / 2]
}

let arguments = CommandLine.arguments
guard arguments.count >= 2, let data = FileManager.default.contents(atPath: arguments[1]) else {
    FileHandle.standardError.write(Data("usage: TraplineBenchmarks STREAM [--thresholds FILE]\n".utf8))
    exit(64)
}
let input = InputBuffer(Array(data))
var frames: [Range<Int>] = []
var position = 0
let raw = input.bytes
while position + 4 <= raw.count {
    let length =
        Int(raw[position]) << 24 | Int(raw[position + 1]) << 16 | Int(raw[position + 2]) << 8 | Int(raw[position + 3])
    frames.append((position + 4)..<(position + 4 + length))
    position += 4 + length
}
let payloadBytes = frames.reduce(0) { $0 + $1.count }

let decoder = OTLPProtobufDecoder()
var batch = SpanBatch()
var spanCount = 0
for frame in frames {
    decoder.decodeTraces(input: input, frame: frame, sourceOffset: frame.lowerBound, into: &batch)
    precondition(batch.rejections.isEmpty, "benchmark input must be valid")
    spanCount += batch.count
}

// OTLP JSON: the same requests as JSON lines, written by Trapline's encoder.
var jsonLines: [UInt8] = []
let jsonEncoder = OTLPJSONEncoder()
for frame in frames {
    decoder.decodeTraces(input: input, frame: frame, sourceOffset: frame.lowerBound, into: &batch)
    jsonEncoder.encode(batch, into: &jsonLines)
}
let jsonInput = InputBuffer(jsonLines)
var jsonFrames: [Range<Int>] = []
var lineStart = 0
for (index, byte) in jsonLines.enumerated() where byte == 0x0A {
    jsonFrames.append(lineStart..<index)
    lineStart = index + 1
}
let jsonBytes = jsonLines.count
let jsonDecoder = OTLPJSONDecoder()
if ProcessInfo.processInfo.environment["TRAPLINE_PROFILE_JSON_DECODE"] != nil {
    // For `perf record`: only the JSON decode loop, long enough to sample.
    for _ in 0..<10 {
        for frame in jsonFrames {
            jsonDecoder.decodeTraces(input: jsonInput, frame: frame, sourceOffset: frame.lowerBound, into: &batch)
        }
    }
    exit(0)
}

// Decode scaling inside one process, on bytes already in memory (no I/O, no page faults):
// the upper bound for the replay's scaling.
func decodeAll(threads: Int, frames: [Range<Int>]) -> Double {
    let start = now()
    DispatchQueue.concurrentPerform(iterations: threads) { thread in
        var local = SpanBatch()
        let decoder = OTLPProtobufDecoder()
        var index = thread
        while index < frames.count {
            decoder.decodeTraces(input: input, frame: frames[index], sourceOffset: 0, into: &local)
            index += threads
        }
    }
    return now() - start
}
_ = decodeAll(threads: 1, frames: frames)
let oneThread = (0..<(probing ? 1 : 5)).map { _ in decodeAll(threads: 1, frames: frames) }.min()!
let twoThreads = (0..<(probing ? 1 : 5)).map { _ in decodeAll(threads: 2, frames: frames) }.min()!

var sink: UInt64 = 0
let byteScan = measure("byte scan (xor of 8-byte words)", spans: spanCount, bytes: payloadBytes) {
    var accumulator: UInt64 = 0
    for frame in frames {
        let base = raw.baseAddress! + frame.lowerBound
        var index = 0
        let count = frame.count
        while index + 8 <= count {
            accumulator ^= base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < count {
            accumulator ^= UInt64(base.load(fromByteOffset: index, as: UInt8.self))
            index += 1
        }
    }
    sink ^= accumulator
}

@MainActor func protobufCPass() {
    var total = 0
    for frame in frames {
        total += otlp_oracle_unpack_count(
            Int32(OTLP_ORACLE_TRACES), (raw.baseAddress! + frame.lowerBound).assumingMemoryBound(to: UInt8.self),
            frame.count)
    }
    precondition(total == spanCount)
}
let protobufC = measure("libprotobuf-c unpack + free", spans: spanCount, bytes: payloadBytes, protobufCPass)

/// The C tag skim (Sources/CPeers): every tag read, every nested message walked, nothing built.
@MainActor func tagSkimPass() {
    var total = 0
    for frame in frames {
        total += peer_tag_skim_traces(
            (raw.baseAddress! + frame.lowerBound).assumingMemoryBound(to: UInt8.self), frame.count)
    }
    precondition(total == spanCount)
}
let tagSkim = measure("C tag skim", spans: spanCount, bytes: payloadBytes, tagSkimPass)

@MainActor func decodePass() {
    for frame in frames {
        decoder.decodeTraces(input: input, frame: frame, sourceOffset: frame.lowerBound, into: &batch)
    }
}
let decodeOnly = measure("trapline decode", spans: spanCount, bytes: payloadBytes, decodePass)
let protobufCRatio = pairedRatio(reference: protobufCPass, subject: decodePass)
let tagSkimRatio = pairedRatio(reference: tagSkimPass, subject: decodePass)

// Metrics (issue 25): data points decoded into rows, in bytes/s beside span decode.
var metricBuilder = MetricRequestBuilder()
let metricRequests = metricBuilder.requests(400)
var metricBytes: [UInt8] = []
var metricFrames: [Range<Int>] = []
for request in metricRequests {
    metricFrames.append(metricBytes.count..<(metricBytes.count + request.count))
    metricBytes += request
}
let metricInput = InputBuffer(metricBytes)
var metricBatch = MetricBatch()
var dataPointCount = 0
for frame in metricFrames {
    decoder.decodeMetrics(input: metricInput, frame: frame, sourceOffset: frame.lowerBound, into: &metricBatch)
    precondition(metricBatch.rejections.isEmpty, "metrics benchmark input must be valid")
    dataPointCount += metricBatch.count
}
@MainActor func metricsDecodePass() {
    for frame in metricFrames {
        decoder.decodeMetrics(input: metricInput, frame: frame, sourceOffset: frame.lowerBound, into: &metricBatch)
        sink ^= UInt64(metricBatch.count)
    }
}
let metricsDecode = measure(
    "trapline metrics decode (data points)", spans: dataPointCount, bytes: metricBytes.count, metricsDecodePass)
// Paired, in bytes/s: the two passes decode different byte counts.
let metricsRatio =
    pairedRatio(reference: decodePass, subject: metricsDecodePass) * Double(metricBytes.count) / Double(payloadBytes)

let writer = WireWriter(initialCapacity: 1 << 20)
let encoder = OTLPProtobufEncoder(framing: .bigEndianLengthPrefix)
let copyThrough = measure("trapline decode + encode (copy-through)", spans: spanCount, bytes: payloadBytes) {
    for frame in frames {
        decoder.decodeTraces(input: input, frame: frame, sourceOffset: frame.lowerBound, into: &batch)
        writer.reset()
        encoder.encode(batch, into: writer)
        sink ^= UInt64(writer.count)
    }
}

let columnEncoder = OTLPProtobufEncoder(framing: .bigEndianLengthPrefix, encodeFromColumns: true)
let columnEncode = measure("trapline decode + encode (from columns)", spans: spanCount, bytes: payloadBytes) {
    for frame in frames {
        decoder.decodeTraces(input: input, frame: frame, sourceOffset: frame.lowerBound, into: &batch)
        writer.reset()
        columnEncoder.encode(batch, into: writer)
        sink ^= UInt64(writer.count)
    }
}

let walk = measure("trapline decode + walk every attribute", spans: spanCount, bytes: payloadBytes) {
    for frame in frames {
        decoder.decodeTraces(input: input, frame: frame, sourceOffset: frame.lowerBound, into: &batch)
        batch.withBytes { bytes in
            var accumulator: UInt64 = 0
            func visit(_ table: AttributeTable) {
                for index in 0..<table.count {
                    let key = bytes[table.keys[index]]
                    accumulator &+= UInt64(key.count) &+ UInt64(key.first ?? 0)
                    let value = table.values[index]
                    switch value.kind {
                    case .string, .bytes, .array, .keyValueList, .rawKeyValue:
                        let content = bytes[value.slice]
                        accumulator &+= UInt64(content.count) &+ UInt64(content.last ?? 0)
                    default:
                        accumulator &+= value.payload
                    }
                }
            }
            visit(batch.attributes)
            visit(batch.events.attributeTable)
            visit(batch.links.attributeTable)
            sink ^= accumulator
        }
    }
}

let jsonByteScan = measure("byte scan of the JSON", spans: spanCount, bytes: jsonBytes) {
    var accumulator: UInt64 = 0
    let base = jsonInput.bytes.baseAddress!
    var index = 0
    while index + 8 <= jsonBytes {
        accumulator ^= base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
        index += 8
    }
    sink ^= accumulator
}
@MainActor func jsonDecodePass() {
    var decoded = 0
    for frame in jsonFrames {
        jsonDecoder.decodeTraces(input: jsonInput, frame: frame, sourceOffset: frame.lowerBound, into: &batch)
        decoded += batch.count
    }
    precondition(decoded == spanCount, "JSON decode lost spans")
}
let jsonDecode = measure("trapline JSON decode", spans: spanCount, bytes: jsonBytes, jsonDecodePass)
let jsonRatio = pairedRatio(reference: decodePass, subject: jsonDecodePass)
// simdjson On-Demand over the same JSON lines, from a copy with the padding it reads past the end.
let paddedJSON = UnsafeMutableBufferPointer<CChar>.allocate(capacity: jsonBytes + peer_simdjson_padding())
paddedJSON.initialize(repeating: 0)
jsonLines.withUnsafeBytes { bytes in
    UnsafeMutableRawBufferPointer(paddedJSON).copyMemory(from: bytes)
}
@MainActor func simdjsonPass() {
    let spans = peer_simdjson_traces(paddedJSON.baseAddress, jsonBytes, paddedJSON.count)
    precondition(spans == spanCount, "simdjson read \(spans) spans")
}
let simdjson = measure("simdjson On-Demand (every value)", spans: spanCount, bytes: jsonBytes, simdjsonPass)
let simdjsonRatio = pairedRatio(reference: simdjsonPass, subject: jsonDecodePass)
var jsonOutput: [UInt8] = []
jsonOutput.reserveCapacity(jsonBytes)
let jsonEncode = measure("trapline protobuf decode + JSON encode", spans: spanCount, bytes: payloadBytes) {
    jsonOutput.removeAll(keepingCapacity: true)
    for frame in frames {
        decoder.decodeTraces(input: input, frame: frame, sourceOffset: frame.lowerBound, into: &batch)
        jsonEncoder.encode(batch, into: &jsonOutput)
    }
    sink ^= UInt64(jsonOutput.count)
}

// Rules (issue 5): a filter with 5 conditions (attribute equality, regex, duration) and a
// transform with 5 statements, built from a pipeline file as `trapline` builds them.
let rulesPipeline = #"""
    receivers:
      stdin:
    processors:
      filter:
        trace_conditions:
          - span.attributes["http.route"] == "/health"
          - IsMatch(span.name, "^(GET|HEAD) /internal/")
          - span.end_time - span.start_time > Duration("30s")
          - resource.attributes["service.name"] == "recommendation"
          - span.kind == SPAN_KIND_INTERNAL and span.attributes["db.system"] == nil
      transform:
        trace_statements:
          - set(span.attributes["duration_ms"], (span.end_time_unix_nano - span.start_time_unix_nano) / 1000000)
          - set(span.attributes["slow"], true) where span.end_time - span.start_time > Duration("100ms")
          - replace_pattern(span.attributes["db.statement"], "= \?", "= :param")
          - delete_key(span.attributes, "user_agent.original")
          - set(span.status.message, "server error") where span.attributes["http.response.status_code"] >= 500
    exporters:
      stdout:
    service:
      pipelines:
        traces:
          receivers: [stdin]
          processors: [filter, transform]
          exporters: [stdout]
    """#
let rules = ConfigLoader.load(yaml: rulesPipeline, file: "benchmark.yaml")
precondition(rules.diagnostics.isEmpty, "\(rules.diagnostics.sorted)")
var mask = RowMask()
var stageCounts: [StageCounts] = []
var ruleTotals = [StageCounts](repeating: StageCounts(), count: 2)
@MainActor func runRules(encode: Bool) {
    for frame in frames {
        decoder.decodeTraces(input: input, frame: frame, sourceOffset: frame.lowerBound, into: &batch)
        for index in stageCounts.indices { stageCounts[index] = StageCounts() }
        rules.stages.run(&batch, mask: &mask, counts: &stageCounts)
        for (index, counts) in stageCounts.enumerated() { ruleTotals[index] += counts }
        if encode {
            writer.reset()
            encoder.encode(batch, keeping: mask, into: writer)
            sink ^= UInt64(writer.count)
        }
    }
}
let filterTransform = measure("trapline decode + filter + transform", spans: spanCount, bytes: payloadBytes) {
    runRules(encode: false)
}
let rulesRatio = pairedRatio(reference: decodePass) { runRules(encode: false) }
let filterTransformEncode = measure("  ... + encode", spans: spanCount, bytes: payloadBytes) { runRules(encode: true) }
let rounds = Double(ruleTotals[0].received) / Double(spanCount)

// k8s_attributes (issue 6): 10,000 pods, and every resource of the stream is one of them
// (associated by pod name and namespace, as the stream's resources carry them).
var k8sTable = PodTable()
var streamPods = Set<String>()
for frame in frames {
    decoder.decodeTraces(input: input, frame: frame, sourceOffset: frame.lowerBound, into: &batch)
    batch.withBytes { bytes in
        for resource in batch.resources {
            for index in resource.attributes.range where bytes.string(batch.attributes.keys[index]) == "k8s.pod.name" {
                streamPods.insert(bytes.string(batch.attributes.values[index].slice))
            }
        }
    }
}
let heapBeforePods = malloc_counter_heap_bytes()
let podNames = Array(streamPods) + (0..<max(0, 10_000 - streamPods.count)).map { "filler-\($0)" }
for (index, name) in podNames.enumerated() {
    let pod = PodTable.Pod(attributes: [
        ("k8s.pod.uid", "uid-\(index)"), ("k8s.deployment.name", String(name.split(separator: "-").first ?? "")),
        ("k8s.node.name", "node-\(index % 40)"), ("k8s.pod.start_time", "2026-11-25T10:00:00Z"),
    ])
    k8sTable.add(
        pod,
        identifiers: PodTable.Identifiers(
            uid: "uid-\(index)", name: name, namespace: "shop",
            ips: ["10.\(index / 65536).\(index / 256 % 256).\(index % 256)"],
            containerIDs: []))
}
let loadedTable = k8sTable
let bytesPerPod = Double(malloc_counter_heap_bytes() &- heapBeforePods) / Double(loadedTable.count)
let k8sStage = K8sAttributesStage(
    id: "k8sattributes", source: PodTableSource(path: nil, initial: loadedTable) { loadedTable },
    rules: [
        PodAssociationRule(sources: [.resourceAttribute("k8s.pod.name"), .resourceAttribute("k8s.namespace.name")])
    ])
let k8sChain = StageChain([k8sStage])
// One entry per stage, reset per batch and reused, as FrameProcessor does (no array per batch).
var k8sCounts = [StageCounts()]
@MainActor func k8sPass() {
    for frame in frames {
        decoder.decodeTraces(input: input, frame: frame, sourceOffset: frame.lowerBound, into: &batch)
        k8sCounts[0] = StageCounts()
        k8sChain.run(&batch, mask: &mask, counts: &k8sCounts)
    }
}
let k8sEnrich = measure("trapline decode + k8s_attributes", spans: spanCount, bytes: payloadBytes, k8sPass)
let k8sRatio = pairedRatio(reference: decodePass, subject: k8sPass)
precondition(k8sCounts[0].associationMisses == 0, "every resource of the stream has its pod")
if ProcessInfo.processInfo.environment["TRAPLINE_K8S_PROFILE"] != nil {
    for _ in 0..<60 {
        for frame in frames {
            decoder.decodeTraces(input: input, frame: frame, sourceOffset: frame.lowerBound, into: &batch)
            k8sCounts[0] = StageCounts()
            k8sChain.run(&batch, mask: &mask, counts: &k8sCounts)
        }
    }
    exit(0)
}
var k8sNanoseconds: UInt64 = 0
var k8sLookups = 0
for frame in frames {
    decoder.decodeTraces(input: input, frame: frame, sourceOffset: frame.lowerBound, into: &batch)
    k8sCounts[0] = StageCounts()
    k8sChain.run(&batch, mask: &mask, counts: &k8sCounts)
    k8sNanoseconds += k8sCounts[0].nanoseconds
    k8sLookups += k8sCounts[0].associationLookups
}

// TRAPLINE_RULES_PROBE=full: the whole rules pipeline, long enough to profile.
if ProcessInfo.processInfo.environment["TRAPLINE_RULES_PROBE"] == "full" {
    let full = measure("probe full", spans: spanCount, bytes: payloadBytes, rounds: 30) { runRules(encode: false) }
    print("full rules pipeline: \(String(format: "%.2f", decodeOnly.seconds / full.seconds))x of decode")
    exit(0)
}

// TRAPLINE_RULES_PROBE=all (or an index): each condition and statement alone, to find what costs.
if ProcessInfo.processInfo.environment["TRAPLINE_RULES_PROBE"] != nil {
    let lines = rulesPipeline.split(separator: "\n").map(String.init)
    // The pipeline's rules, then a few more that isolate costs.
    let rulesOnly =
        lines.filter { $0.hasPrefix("      - ") }.map { String($0.dropFirst(8)) } + [
            #"replace_pattern(span.attributes["db.statement"], "zzz", "y")"#,
            #"replace_pattern(span.name, "GET", "get")"#,
            #"set(span.attributes["k"], "v")"#,
            #"set(span.name, "renamed")"#,
        ]
    let only = Int(ProcessInfo.processInfo.environment["TRAPLINE_RULES_PROBE"] ?? "")
    for (index, rule) in rulesOnly.enumerated() where only == nil || only == index {
        let key = index < 5 ? "trace_conditions" : "trace_statements"
        let kind = index < 5 ? "filter" : "transform"
        guard !rule.isEmpty else { continue }
        let yaml = """
            receivers: {stdin: }
            processors:
              \(kind):
                \(key):
                  - '\(rule.replacingOccurrences(of: "'", with: "''"))'
            exporters: {stdout: }
            service: {pipelines: {traces: {receivers: [stdin], processors: [\(kind)], exporters: [stdout]}}}
            """
        let single = ConfigLoader.load(yaml: yaml, file: "probe.yaml")
        precondition(single.diagnostics.isEmpty, "\(single.diagnostics.sorted)")
        var stageNanoseconds: UInt64 = 0
        var passes = 0
        let probe = measure(
            "probe " + String(rule.prefix(54)), spans: spanCount, bytes: payloadBytes, rounds: only == nil ? 3 : 30
        ) {
            passes += 1
            for frame in frames {
                decoder.decodeTraces(input: input, frame: frame, sourceOffset: frame.lowerBound, into: &batch)
                stageCounts = []
                single.stages.run(&batch, mask: &mask, counts: &stageCounts)
                stageNanoseconds += stageCounts[0].nanoseconds
            }
        }
        print(
            "\(probe.name.padding(toLength: 62, withPad: " ", startingAt: 0)) \(String(format: "%.2f", decodeOnly.seconds / probe.seconds))x of decode  \(String(format: "%5.0f", Double(stageNanoseconds) / Double(passes * spanCount))) ns/span in the stage  \(String(format: "%6.3f", Double(probe.allocations) / Double(spanCount))) allocs/span"
        )
    }
    exit(0)
}

// Traps (issue 7): both built-in packs on (the runtime rules run on spans; go-crossbuild reads log
// records and is inert here), with the trap events and blocked rows a replay would report.
let trapsPipeline = """
    receivers: {stdin: }
    processors:
      traps:
        rules:
          - builtin: runtime
          - builtin: go-crossbuild
    exporters: {stdout: }
    service:
      pipelines:
        traces: {receivers: [stdin], processors: [traps], exporters: [stdout]}
        logs: {receivers: [stdin], processors: [traps], exporters: [stdout]}
    """
let trapsChain = ConfigLoader.load(yaml: trapsPipeline, file: "traps-benchmark.yaml")
precondition(trapsChain.diagnostics.isEmpty, "\(trapsChain.diagnostics.sorted)")
var trapLedger = TrapLedger()
var trapEvents = 0
@MainActor func trapsPass() {
    for frame in frames {
        decoder.decodeTraces(input: input, frame: frame, sourceOffset: frame.lowerBound, into: &batch)
        trapsChain.stages.run(&batch, mask: &mask, counts: &stageCounts, traps: &trapLedger)
        trapEvents &+= trapLedger.events.count
    }
}
let trapDetection = measure("trapline decode + traps (both packs)", spans: spanCount, bytes: payloadBytes, trapsPass)
let trapsRatio = pairedRatio(reference: decodePass, subject: trapsPass)

// TRAPLINE_CHAIN_PROBE=1: decode plus a chain of one stage that does nothing, against decode:
// what running a stage costs before the stage does any work.
struct NothingStage: Stage {
    let id = "nothing"
    func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts) {}
    func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts) {}
}
if ProcessInfo.processInfo.environment["TRAPLINE_CHAIN_PROBE"] != nil {
    let nothing = StageChain([NothingStage()])
    var nothingCounts = [StageCounts()]
    for _ in 0..<3 {
        let empty = measure("decode + a stage doing nothing", spans: spanCount, bytes: payloadBytes) {
            for frame in frames {
                decoder.decodeTraces(input: input, frame: frame, sourceOffset: frame.lowerBound, into: &batch)
                nothingCounts[0] = StageCounts()
                nothing.run(&batch, mask: &mask, counts: &nothingCounts)
            }
        }
        let plain = measure("trapline decode", spans: spanCount, bytes: payloadBytes) {
            for frame in frames {
                decoder.decodeTraces(input: input, frame: frame, sourceOffset: frame.lowerBound, into: &batch)
            }
        }
        let k8s = measure("decode + k8s", spans: spanCount, bytes: payloadBytes) {
            for frame in frames {
                decoder.decodeTraces(input: input, frame: frame, sourceOffset: frame.lowerBound, into: &batch)
                k8sCounts[0] = StageCounts()
                k8sChain.run(&batch, mask: &mask, counts: &k8sCounts)
            }
        }
        print(
            "empty stage \(String(format: "%.3f", plain.seconds / empty.seconds))x of decode, k8s \(String(format: "%.3f", plain.seconds / k8s.seconds))x"
        )
    }
    exit(0)
}

// TRAPLINE_TRAPS_PROBE=1: each runtime rule alone, to find what costs.
if ProcessInfo.processInfo.environment["TRAPLINE_TRAPS_PROBE"] != nil {
    let pack = BuiltinTrapPacks.decodePack(BuiltinTrapPacks.runtimeYAML, file: "runtime.yaml")
    for rule in pack.rules {
        for condition in rule.when {
            let yaml = """
                receivers: {stdin: }
                processors:
                  traps:
                    rules:
                      - class: probe
                        when: '\(condition.text.replacingOccurrences(of: "'", with: "''"))'
                exporters: {stdout: }
                service: {pipelines: {traces: {receivers: [stdin], processors: [traps], exporters: [stdout]}}}
                """
            let single = ConfigLoader.load(yaml: yaml, file: "probe.yaml")
            precondition(single.diagnostics.isEmpty, "\(single.diagnostics.sorted)")
            let probe = measure(
                "probe " + String(condition.text.prefix(54)), spans: spanCount, bytes: payloadBytes, rounds: 3
            ) {
                for frame in frames {
                    decoder.decodeTraces(input: input, frame: frame, sourceOffset: frame.lowerBound, into: &batch)
                    single.stages.run(&batch, mask: &mask, counts: &stageCounts, traps: &trapLedger)
                }
            }
            print(
                "\(probe.name.padding(toLength: 62, withPad: " ", startingAt: 0)) \(String(format: "%.2f", decodeOnly.seconds / probe.seconds))x of decode  \(String(format: "%6.3f", Double(probe.allocations) / Double(spanCount))) allocs/span"
            )
        }
    }
    exit(0)
}

// Embedding (issue 10): the realistic stream through `Pipeline.process` (the Swift API) and
// through libTraplineC's `trapline_process` (the C ABI: input copied in, output malloc'd and
// freed), the same pipeline (a filter) built from the same YAML, one request at a time.
let embeddingYAML = """
    receivers: {stdin: }
    processors:
      filter:
        trace_conditions: ['attributes["http.route"] == "/health"']
    exporters: {stdout: }
    service: {pipelines: {traces: {receivers: [stdin], processors: [filter], exporters: [stdout]}}}
    """
let swiftPipeline = try! Pipeline(yaml: embeddingYAML)
let requestBodies = frames.map { Array(raw[$0]) }
@MainActor func runSwiftAPI() {
    for body in requestBodies { sink ^= UInt64(swiftPipeline.process(body, format: .protobuf(.traces)).output.count) }
}
var abiError = [CChar](repeating: 0, count: 256)
let cPipeline = trapline_pipeline_new(embeddingYAML, &abiError, abiError.count)!
@MainActor func runCABI() {
    for body in requestBodies {
        var output: UnsafeMutablePointer<UInt8>?
        var outputSize = 0
        body.withUnsafeBufferPointer { bytes in
            _ = trapline_process(
                cPipeline, bytes.baseAddress, bytes.count, TRAPLINE_FORMAT_PROTOBUF_TRACES, &output, &outputSize,
                &abiError, abiError.count)
        }
        sink ^= UInt64(outputSize)
        trapline_buffer_free(output)
    }
}
// Interleaved (Swift, C, Swift, C …) so that drift of the machine's speed hits both alike.
var swiftAPI = measure("Swift API: Pipeline.process", spans: spanCount, bytes: payloadBytes, rounds: 3, runSwiftAPI)
var cABI = measure("C ABI: trapline_process", spans: spanCount, bytes: payloadBytes, rounds: 3, runCABI)
for _ in 0..<4 {
    let swiftRound = measure(
        "Swift API: Pipeline.process", spans: spanCount, bytes: payloadBytes, rounds: 3, runSwiftAPI)
    let cRound = measure("C ABI: trapline_process", spans: spanCount, bytes: payloadBytes, rounds: 3, runCABI)
    if swiftRound.seconds < swiftAPI.seconds { swiftAPI = swiftRound }
    if cRound.seconds < cABI.seconds { cABI = cRound }
}
trapline_pipeline_free(cPipeline)

/// Build-log traps: the go-crossbuild scan of every corpus log (one log at a time, as `trapline gate` reads
/// them), against counting the same bytes' newlines (the least a line-based reader must do).
@MainActor func measureBuildLogScan() -> (scan: Measurement, newlines: Measurement) {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../Fixtures/corpus/buildlogs").standardizedFileURL.path
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter {
        $0.hasSuffix(".log")
    }
    let logs = names.sorted().compactMap { try? String(contentsOfFile: directory + "/" + $0, encoding: .utf8) }
    let bytes = logs.reduce(0) { $0 + $1.utf8.count }
    let scanner = GoBuildLogScanner(defaultHost: ("linux", "amd64"))
    var found = 0
    let scan = measure("build-log scan (go-crossbuild, 85 logs)", spans: logs.count, bytes: bytes, rounds: 15) {
        for log in logs { found &+= scanner.scan(log).count }
    }
    var newlines = 0
    let peer = measure("newline count over the same logs", spans: logs.count, bytes: bytes, rounds: 15) {
        for log in logs {
            newlines &+= log.utf8.withContiguousStorageIfAvailable { $0.reduce(0) { $0 &+ ($1 == 10 ? 1 : 0) } } ?? 0
        }
    }
    sink ^= UInt64(truncatingIfNeeded: found ^ newlines)
    return (scan, peer)
}
let buildLogs = measureBuildLogScan()

func line(_ measurement: Measurement) -> String {
    let name = measurement.name.padding(toLength: 42, withPad: " ", startingAt: 0)
    return
        "\(name) \(String(format: "%12.0f", measurement.spansPerSecond)) spans/s  \(String(format: "%8.1f", measurement.megabytesPerSecond)) MB/s  \(String(format: "%6.3f", Double(measurement.allocations) / Double(measurement.spans))) allocs/span"
}

print(
    "input: \(frames.count) requests, \(spanCount) spans, \(payloadBytes) bytes protobuf, \(jsonBytes) bytes JSON (one core)"
)
for measurement in [
    byteScan, protobufC, tagSkim, decodeOnly, metricsDecode, copyThrough, columnEncode, walk, jsonByteScan,
    simdjson, jsonDecode, jsonEncode,
    filterTransform, filterTransformEncode, k8sEnrich, trapDetection, swiftAPI, cABI,
] {
    print(line(measurement))
}
let ratios: [(String, Double)] = [
    ("decode vs libprotobuf-c (paired)", protobufCRatio),
    ("decode vs C tag skim (paired)", tagSkimRatio),
    ("JSON decode vs simdjson On-Demand (paired)", simdjsonRatio),
    ("copy-through vs libprotobuf-c", protobufC.seconds / copyThrough.seconds),
    ("walk-every-attribute vs libprotobuf-c", protobufC.seconds / walk.seconds),
    ("decode vs byte scan (share of the limit)", byteScan.seconds / decodeOnly.seconds),
    ("copy-through vs byte scan", byteScan.seconds / copyThrough.seconds),
    ("JSON decode vs protobuf decode (spans/s, paired)", jsonRatio),
    ("metrics decode vs span decode (bytes/s, paired)", metricsRatio),
    ("JSON decode vs byte scan of the JSON", jsonByteScan.seconds / jsonDecode.seconds),
    ("decode+filter+transform vs decode (paired)", rulesRatio),
    ("decode+k8s_attributes (10k pods) vs decode (paired)", k8sRatio),
    ("decode+traps (both packs) vs decode (paired)", trapsRatio),
    ("C ABI vs Swift API (1.00 = no cost)", swiftAPI.seconds / cABI.seconds),
]
print(
    "rules: filter \(String(format: "%.0f", Double(ruleTotals[0].nanoseconds) / Double(ruleTotals[0].received))) ns/span, transform \(String(format: "%.0f", Double(ruleTotals[1].nanoseconds) / Double(max(1, ruleTotals[1].received)))) ns/span it saw"
)
print(
    "rules: filter dropped \(String(format: "%.1f", Double(ruleTotals[0].filtered) / rounds)) of \(spanCount) spans per pass, transform saw \(String(format: "%.0f", Double(ruleTotals[1].received) / rounds)), rule errors \(ruleTotals[1].ruleErrors)"
)
print("decode: \(String(format: "%.0f", decodeOnly.seconds / Double(spanCount) * 1e9)) ns/span")
// The encoder alone: what decode + encode took beyond decode, against the JSON it wrote.
let encodeSeconds = jsonEncode.seconds - decodeOnly.seconds
print(
    "JSON encode alone: \(String(format: "%.0f", encodeSeconds / Double(spanCount) * 1e9)) ns/span, \(String(format: "%.0f", Double(jsonOutput.count) / encodeSeconds / 1e6)) MB/s of JSON written"
)
print(
    "k8s_attributes: \(loadedTable.count) pods, \(k8sLookups) resources looked up, \(String(format: "%.1f", Double(k8sNanoseconds) / Double(spanCount))) ns/span in the stage (\(String(format: "%.0f", Double(k8sNanoseconds) / Double(max(1, k8sLookups)))) ns per resource), \(String(format: "%.0f", bytesPerPod)) heap bytes per pod (4 attributes kept)"
)
print("traps: \(trapEvents) trap events over all passes (runtime pack on the realistic stream)")
print(
    "build logs: \(String(format: "%.1f", buildLogs.scan.megabytesPerSecond)) MB/s scanned for traps, \(String(format: "%.0f", buildLogs.newlines.megabytesPerSecond)) MB/s newline count (\(String(format: "%.3f", buildLogs.newlines.seconds / buildLogs.scan.seconds))x of it)"
)
print("in-memory decode scaling, 1 → 2 threads: \(String(format: "%.2f", oneThread / twoThreads))x")
for (name, ratio) in ratios {
    print("ratio \(name.padding(toLength: 52, withPad: " ", startingAt: 0)) \(String(format: "%.2f", ratio))x")
}
print("(sink \(sink & 1))")

// Thresholds: fail (exit 1) when a ratio falls under its floor or allocations rise.
if let index = arguments.firstIndex(of: "--thresholds"), index + 1 < arguments.count,
    let thresholdData = FileManager.default.contents(atPath: arguments[index + 1]),
    let thresholds = try? JSONSerialization.jsonObject(with: thresholdData) as? [String: Double]
{
    var failed = false
    if let floor = thresholds["min_decode_ratio_vs_protobuf_c"], protobufCRatio < floor {
        print("THRESHOLD: decode ratio vs libprotobuf-c below \(floor)")
        failed = true
    }
    if let floor = thresholds["min_json_decode_ratio_vs_protobuf_decode"],
        jsonRatio < floor
    {
        print("THRESHOLD: JSON decode below \(floor) of protobuf decode")
        failed = true
    }
    if let floor = thresholds["min_metrics_decode_ratio_vs_span_decode"], metricsRatio < floor {
        print("THRESHOLD: metrics decode below \(floor) of span decode in bytes/s")
        failed = true
    }
    if let floor = thresholds["min_rules_ratio_vs_decode"], rulesRatio < floor {
        print("THRESHOLD: decode + filter + transform below \(floor) of decode")
        failed = true
    }
    if let floor = thresholds["min_k8s_ratio_vs_decode"], k8sRatio < floor {
        print("THRESHOLD: decode + k8s_attributes below \(floor) of decode")
        failed = true
    }
    if let floor = thresholds["min_c_abi_ratio_vs_swift_api"], swiftAPI.seconds / cABI.seconds < floor {
        print("THRESHOLD: the C ABI costs more than \(Int((1 - floor) * 100))% over the Swift API")
        failed = true
    }
    if let floor = thresholds["min_traps_ratio_vs_decode"], trapsRatio < floor {
        print("THRESHOLD: decode + traps below \(floor) of decode")
        failed = true
    }
    if let ceiling = thresholds["max_decode_allocations_per_span"],
        Double(decodeOnly.allocations) / Double(spanCount) > ceiling
    {
        print("THRESHOLD: decode allocations per span above \(ceiling)")
        failed = true
    }
    print(failed ? "thresholds: FAILED" : "thresholds: ok")
    exit(failed ? 1 : 0)
}
