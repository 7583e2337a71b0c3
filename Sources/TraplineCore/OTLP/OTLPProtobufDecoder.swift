/// Decodes OTLP protobuf export requests into batches.
///
/// One pass over the bytes; no allocation per record once the batch's columns have grown to
/// the size of the frames they hold. Bad records are recorded in `batch.rejections` and never
/// stop the good records around them.
public struct OTLPProtobufDecoder: Sendable {
    /// The deepest message nesting accepted; the request itself is depth 0.
    public var maxDepth: Int
    /// Spans' attributes, events and links are skipped over, not read or checked: for a pass that
    /// needs only the spans' ids, names, times, kinds and status (a whole-trace filter's first
    /// pass over a capture the second pass reads in full). Default false.
    public var skipsSpanDetails = false

    /// Makes a decoder.
    ///
    /// - Parameter maxDepth: nesting limit (default 100, as upb's).
    ///
    /// Allocates nothing.
    public init(maxDepth: Int = 100) {
        self.maxDepth = maxDepth
    }

    /// Decodes an `ExportTraceServiceRequest` (or `TracesData`) held in `input[frame]`.
    ///
    /// - Parameters:
    ///   - input: the buffer; the batch keeps it alive.
    ///   - frame: the request's bytes within `input`. At most 2 GiB.
    ///   - sourceOffset: offset of the frame in its source, for error offsets.
    ///   - batch: reset, then filled.
    ///
    /// Copies no string or byte value (columns hold slices of `input`); allocates only when the batch's columns grow
    /// (reuse the batch: a warm batch allocates nothing).
    public func decodeTraces(input: InputBuffer, frame: Range<Int>, sourceOffset: Int, into batch: inout SpanBatch) {
        decode(input: input, frame: frame, sourceOffset: sourceOffset, into: &batch)
    }

    /// Decodes an `ExportLogsServiceRequest` (or `LogsData`) held in `input[frame]`.
    ///
    /// - Parameters: as `decodeTraces`.
    ///
    /// Copies no string or byte value; allocates only when the batch's columns grow.
    public func decodeLogs(input: InputBuffer, frame: Range<Int>, sourceOffset: Int, into batch: inout LogBatch) {
        decode(input: input, frame: frame, sourceOffset: sourceOffset, into: &batch)
    }

    /// Decodes an `ExportMetricsServiceRequest` (or `MetricsData`) held in `input[frame]`: one
    /// row per data point.
    ///
    /// - Parameters: as `decodeTraces`.
    ///
    /// Copies no string or byte value; allocates only when the batch's columns grow.
    public func decodeMetrics(input: InputBuffer, frame: Range<Int>, sourceOffset: Int, into batch: inout MetricBatch) {
        decode(input: input, frame: frame, sourceOffset: sourceOffset, into: &batch)
    }

    /// A request of any signal (specialized for each batch type, as the public entries call it).
    @inline(__always)
    private func decode<Batch: OTLPContainerBatch>(
        input: InputBuffer, frame: Range<Int>, sourceOffset: Int, into batch: inout Batch
    ) {
        precondition(frame.count < Int(ByteSlice.arenaFlag), "frames are capped at 2 GiB")
        batch.reset(input: input, frame: frame, sourceOffset: sourceOffset)
        withExtendedLifetime(input) {
            let bytes = UnsafeRawBufferPointer(rebasing: input.bytes[frame])
            OTLPFieldDecoder(
                frame: bytes, sourceOffset: sourceOffset, maxDepth: maxDepth, skipsSpanDetails: skipsSpanDetails
            ).decodeRequest(into: &batch)
        }
    }
}
