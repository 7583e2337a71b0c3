/// What every columnar batch has, whatever its signal: the resource and scope tables, the
/// attribute table, the bytes its slices point into, the rejections of its frame, and one row per
/// record with its scope, attributes and ids.
///
/// `SpanBatch` and `LogBatch` conform (metric data points are next). Code that does not care
/// about the signal (the container walk of both decoders, rules, traps, accounting, the frame
/// processor) is generic over it, so each batch type gets its own specialized copy: no
/// existential, no dynamic dispatch per row. Signal-specific work stays in concrete overloads.
public protocol TelemetryBatch: Sendable {
    /// The signal the batch holds.
    static var signal: Signal { get }

    /// The bytes the batch's slices point into: the retained input frame and the arena.
    var storage: SliceStorage { get set }
    /// Resource entries.
    var resources: [ResourceEntry] { get set }
    /// Scope entries, grouped by resource.
    var scopes: [ScopeEntry] { get set }
    /// Attributes of resources, scopes and records.
    var attributes: AttributeTable { get set }
    /// What was rejected while decoding the frame.
    var rejections: BatchRejections { get set }
    /// The IP address of the client that sent the batch, as text; empty for files and stdin.
    var clientAddress: [UInt8] { get set }

    /// Number of records (rows).
    var count: Int { get }
    /// Index of each row's scope entry.
    var scopeIndexes: [UInt32] { get }
    /// Each record's attributes in `attributes`.
    var recordAttributes: [RowRange] { get set }
    /// Each record's trace id (zero when unset).
    var traceIDs: [TraceID] { get set }
    /// Each record's span id (zero when unset).
    var spanIDs: [SpanID] { get set }
    /// Each record's flags.
    var flags: [UInt32] { get set }

    /// Marks `row` as changed, so the encoder writes it from columns instead of copying it. Allocates nothing.
    mutating func markModified(_ row: Int)
    /// Empties the batch for a new frame, keeping every column's storage.
    /// Keeps every column's capacity; allocates nothing.
    mutating func reset(input: InputBuffer?, frame: Range<Int>, sourceOffset: Int)
}

extension TelemetryBatch {
    /// Index of the scope entry of `row`. Allocates nothing.
    @inlinable
    public func scopeIndex(ofRow row: Int) -> Int { Int(scopeIndexes[row]) }

    /// Index of the resource entry of `row`. Allocates nothing.
    @inlinable
    public func resourceIndex(ofRow row: Int) -> Int { Int(scopes[Int(scopeIndexes[row])].resourceIndex) }

    /// Calls `body` with the frame and arena bytes that slices point into.
    ///
    /// - Parameter body: receives a resolver valid only inside the call.
    ///
    /// Allocates nothing.
    @inlinable
    public func withBytes<Result>(_ body: (BatchBytes) throws -> Result) rethrows -> Result {
        try storage.withBytes(body)
    }
}
