import Testing
import TraplineCore
import TraplineTestSupport

/// Metrics decoded into rows of data points: what the columns hold, what bad input loses, and
/// how kept points are written back under their metric.
@Suite struct MetricBatchTests {
    /// A request with one scope holding the metrics `build` adds.
    static func request(_ build: (inout ProtoBuilder) -> Void) -> [UInt8] {
        var request = ProtoBuilder()
        request.messageField(1) { resource in
            resource.messageField(1) { $0.messageField(1) { $0.stringField(1, "service.name") } }
            resource.messageField(2) { scope in
                scope.messageField(1) { $0.stringField(1, "test.scope") }
                build(&scope)
            }
        }
        return request.bytes
    }

    /// A `Metric` (field 2 of its scope) with `points` number points of `type` (5 gauge, 7 sum).
    static func metric(
        _ builder: inout ProtoBuilder, name: [UInt8], type: UInt32 = 5, points: [(Double, attribute: [UInt8])]
    ) {
        builder.messageField(2) { metric in
            metric.bytesField(1, name)
            metric.messageField(type) { data in
                for (value, attribute) in points {
                    data.messageField(1) { point in
                        point.fixed64Field(3, 1_700_000_000_000_000_000)
                        point.fixed64Field(4, value.bitPattern)
                        point.messageField(7) { keyValue in
                            keyValue.bytesField(1, attribute)
                            keyValue.messageField(2) { $0.stringField(1, "v") }
                        }
                    }
                }
                if type == 7 {
                    data.varintField(2, 2)
                    data.varintField(3, 1)
                }
            }
        }
    }

    static func decode(_ bytes: [UInt8]) -> MetricBatch { TestDecode.metrics(bytes) }

    @Test func rowsAreDataPointsUnderTheirMetric() {
        let bytes = Self.request { scope in
            Self.metric(
                &scope, name: Array("cpu".utf8), points: [(0.5, Array("core".utf8)), (0.25, Array("core".utf8))])
            Self.metric(&scope, name: Array("requests".utf8), type: 7, points: [(3, Array("route".utf8))])
        }
        let batch = Self.decode(bytes)
        #expect(batch.rejections.isEmpty)
        #expect(batch.count == 3)
        #expect(batch.metrics.count == 2)
        #expect(batch.metrics.types == [.gauge, .sum])
        #expect(batch.metrics.temporalities == [0, 2])
        #expect(batch.metrics.isMonotonic == [false, true])
        #expect(batch.metrics.points.map(\.range) == [0..<2, 2..<3])
        #expect(batch.metricIndexes == [0, 0, 1])
        #expect(batch.valueKinds == [.double, .double, .double])
        #expect(batch.values.map { Double(bitPattern: $0) } == [0.5, 0.25, 3])
        #expect(bytes.withUnsafeBytes { SignalDetector.detect($0) } == .metrics)
        // Unchanged, the request is written back byte for byte.
        #expect(TestDecode.encode(batch) == bytes)
    }

    @Test func aBadPointLosesOnlyItself() {
        let bytes = Self.request { scope in
            Self.metric(
                &scope, name: Array("cpu".utf8),
                points: [(1, Array("ok".utf8)), (2, [0xC3, 0x28]), (3, Array("ok".utf8))])
        }
        let batch = Self.decode(bytes)
        #expect(batch.count == 2)
        #expect(batch.rejections.recordCount == 1)
        #expect(batch.rejections.errors.first?.reason == .invalidUTF8)
        #expect(batch.values.map { Double(bitPattern: $0) } == [1, 3])
        #expect(batch.metrics.points.map(\.range) == [0..<2])
    }

    @Test func aBadMetricLosesItsPointsCountedAsPoints() {
        let bytes = Self.request { scope in
            Self.metric(&scope, name: [0xFF, 0xFE], points: [(1, Array("a".utf8)), (2, Array("b".utf8))])
            Self.metric(&scope, name: Array("good".utf8), points: [(3, Array("c".utf8))])
        }
        let batch = Self.decode(bytes)
        #expect(batch.count == 1)
        #expect(batch.metrics.count == 1)
        #expect(batch.rejections.recordCount == 2)
        #expect(batch.values.map { Double(bitPattern: $0) } == [3])
        #expect(batch.metrics.points.map(\.range) == [0..<1])
    }

    /// A mask that drops some points writes the metric with the rest; a metric left without
    /// points is left out, and so is its scope when it had no other.
    @Test func droppedPointsAndEmptiedMetricsAreLeftOut() {
        let bytes = Self.request { scope in
            Self.metric(&scope, name: Array("a".utf8), points: [(1, Array("x".utf8)), (2, Array("y".utf8))])
            Self.metric(&scope, name: Array("b".utf8), points: [(3, Array("z".utf8))])
        }
        var batch = Self.decode(bytes)
        var mask = RowMask()
        mask.reset(count: batch.count)
        mask.drop(1)
        mask.drop(2)
        let written = Self.decode(TestDecode.encode(batch, keeping: mask))
        #expect(written.metrics.count == 1)
        #expect(written.values.map { Double(bitPattern: $0) } == [1])
        // A changed point keeps its value and takes its attributes from the table.
        batch.attributes.values[Int(batch.recordAttributes[0].start)] = AnyValueRef(kind: .int, payload: 7)
        batch.markModified(0)
        let changed = Self.decode(TestDecode.encode(batch))
        #expect(changed.count == 3)
        #expect(
            changed.attributes.values[Int(changed.recordAttributes[0].start)] == AnyValueRef(kind: .int, payload: 7))
        #expect(changed.values.map { Double(bitPattern: $0) } == [1, 2, 3])
    }

    /// JSON in, JSON out: the same request, by the table the two share.
    @Test func jsonIsReadAndWrittenByTheSameTable() throws {
        let json = """
            {"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"h","unit":"ms","histogram":{\
            "aggregationTemporality":1,"dataPoints":[{"count":"3","sum":4.5,"bucketCounts":["1","2"],\
            "explicitBounds":[2],"min":0,"max":"Infinity","attributes":[{"key":"k","value":{"intValue":"5"}}]}]}},\
            {"name":"e","exponentialHistogram":{"dataPoints":[{"scale":-2,"positive":{"offset":-1,"bucketCounts":["4"]},\
            "exemplars":[{"asInt":"9","traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708"}]}]}},\
            {"name":"s","summary":{"dataPoints":[{"quantileValues":[{"quantile":0.5,"value":1.25}]}]}}]}]}]}
            """
        var batch = MetricBatch()
        let input = InputBuffer(Array(json.utf8))
        OTLPJSONDecoder().decodeMetrics(input: input, frame: 0..<input.bytes.count, sourceOffset: 0, into: &batch)
        #expect(batch.rejections.isEmpty, "\(batch.rejections.errors)")
        #expect(batch.count == 3)
        #expect(batch.metrics.types == [.histogram, .exponentialHistogram, .summary])
        var out: [UInt8] = []
        OTLPJSONEncoder().encode(batch, into: &out)
        let text = String(decoding: out, as: UTF8.self)
        for fragment in [
            #""bucketCounts":["1","2"]"#, #""explicitBounds":[2.0]"#, #""max":"Infinity""#, #""scale":-2"#,
            #""offset":-1"#, #""traceId":"0102030405060708090a0b0c0d0e0f10""#, #""asInt":"9""#,
            #""quantileValues":[{"quantile":0.5,"value":1.25}]"#, #""aggregationTemporality":1"#,
        ] {
            #expect(text.contains(fragment), "\(fragment) not in \(text)")
        }
    }
}

/// A fuzz finding (`regressions/fuzz/decode/`): a metric some of whose points are rejected was
/// copied through whole, so its output still held the rejected points (read back: 4 points where
/// 2 had gone on). It is now written from the points kept.
@Suite struct MetricLosingPointsTests {
    @Test func aMetricThatLostPointsIsWrittenWithoutThem() throws {
        let bytes = try Fixtures.bytes("regressions/fuzz/decode/metric-losing-points.pb")
        let decoder = OTLPProtobufDecoder()
        var batch = MetricBatch()
        decoder.decodeMetrics(input: InputBuffer(bytes), frame: 0..<bytes.count, sourceOffset: 0, into: &batch)
        #expect(batch.count == 2)
        #expect(!batch.rejections.isEmpty)
        let writer = WireWriter(initialCapacity: 1024)
        OTLPProtobufEncoder(framing: .none).encode(batch, into: writer)
        var again = MetricBatch()
        let copy = InputBuffer(copying: writer.bytes)
        decoder.decodeMetrics(input: copy, frame: 0..<copy.bytes.count, sourceOffset: 0, into: &again)
        #expect(again.count == batch.count)
        #expect(again.rejections.isEmpty)
    }
}
