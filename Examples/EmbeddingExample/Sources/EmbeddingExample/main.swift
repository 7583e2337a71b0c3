import Foundation
@_spi(Plumbing) import Trapline
import TraplineCore
import TraplineStages

/// A stage of the application's own: drops spans longer than a limit, counting them as filtered
/// (a stage clears rows in the mask and counts what it dropped; STYLE.md, "Writing a stage").
struct DropLongSpans: Stage {
    let id = "drop_long_spans"
    let limitNanoseconds: UInt64

    func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts) {
        for row in 0..<batch.count where mask.kept[row] {
            let duration = batch.endTimes[row] &- batch.startTimes[row]
            if duration > limitNanoseconds && mask.drop(row) { counts.filtered += 1 }
        }
    }

    func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts) {}
}

let yaml = """
    receivers: {stdin: }
    processors:
      filter:
        trace_conditions: ['attributes["http.request.method"] == "DELETE"']
      traps:
        rules:
          - class: server_error
            when: 'attributes["http.response.status_code"] >= 500'
            action: observe
            remedy: look at the service's logs
    exporters: {stdout: }
    service: {pipelines: {traces: {receivers: [stdin], processors: [filter, traps], exporters: [stdout]}}}
    """

guard CommandLine.arguments.count == 2, let data = FileManager.default.contents(atPath: CommandLine.arguments[1])
else {
    print("usage: EmbeddingExample FILE (length-prefixed OTLP protobuf trace requests)")
    exit(64)
}
let pipeline: Pipeline
do {
    pipeline = try Pipeline(yaml: yaml, extraStages: [DropLongSpans(limitNanoseconds: 50_000_000)])
} catch {
    print("pipeline: \(error)")
    exit(78)
}
let bytes = [UInt8](data)
var offset = 0
var requests = 0
var outputBytes = 0
while offset + 4 <= bytes.count {
    let length =
        Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
    let result = pipeline.process(Array(bytes[(offset + 4)..<(offset + 4 + length)]), format: .protobuf(.traces))
    outputBytes += result.output.count
    offset += 4 + length
    requests += 1
}
let records = pipeline.records
let rate = pipeline.trapEscapeRate
print(
    "requests \(requests) received \(records.received) forwarded \(records.forwarded) filtered \(records.filtered) blocked \(records.blocked) rejected \(records.rejected) traps \(rate.identified) output \(outputBytes)"
)
exit(records.isBalanced && records.received > 0 ? 0 : 1)
