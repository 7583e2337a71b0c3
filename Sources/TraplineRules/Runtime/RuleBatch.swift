import TraplineCore

/// Where an item is: its resource, scope, record row and span event.
struct RulePosition {
    var resource = 0
    var scope = 0
    var row = 0
    var event = 0
    /// The metric (metric and datapoint contexts).
    var metric = 0
}

/// A rule failed on one item at run time (a conversion that cannot be made, a value of the
/// wrong kind for its field). What happens next is the processor's `error_mode`.
public struct RuleRuntimeError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    public var description: String { message }
    init(_ message: String) { self.message = message }
}

/// What rules need from a batch beyond `TelemetryBatch`: fields by path, span events, and the
/// integer columns the vectorised comparisons read. Both batch types conform, and the evaluator
/// is generic over them so each is specialized (no dynamic dispatch per row).
protocol RuleBatch: TelemetryBatch {
    /// Number of span events (0 for logs), and the row each belongs to.
    func eventOwners() -> [Int32]

    /// A field of the record or its span event (`readField` has done resource, scope, ids and
    /// flags); `.null` for a field the signal does not have.
    func readRecordField(_ field: RuleField, at position: RulePosition, _ bytes: BatchBytes) -> RuleValue
    /// Writes a field of the record or its span event (`writeField` has done the shared ones).
    mutating func writeRecordField(_ field: RuleField, at position: RulePosition, _ value: RuleValue)
        throws(RuleRuntimeError)

    /// The table span event attributes live in (a log record's own, for logs).
    var eventAttributeTable: AttributeTable { get }
    /// The attribute range of the span event at `position`.
    func eventAttributeRange(at position: RulePosition) -> RowRange
    /// Runs `body` on the event attribute table, the event's range and the batch storage at once.
    mutating func editEventAttributes<Result>(
        at position: RulePosition, _ body: (inout AttributeTable, inout RowRange, inout SliceStorage) -> Result
    ) -> Result

    /// Lends the attribute table, every record's range, the resource and scope entries and the
    /// storage at once (a generic caller cannot borrow two properties of `self` together).
    mutating func editTables<Result>(_ body: TableEditor<Result>) -> Result

    /// Drops the span events of `row` whose flag in `drop` (indexed by event) is set.
    mutating func removeEvents(ofRow row: Int, where drop: [Bool]) -> Int

    /// The metric of data point `row` (0 for signals without metrics).
    func metricIndex(ofPoint row: Int) -> Int
    /// The scope of metric `metric`.
    func scopeIndex(ofMetric metric: Int) -> Int
    /// The rows (data points) of metric `metric`; empty for other signals.
    func pointRows(ofMetric metric: Int) -> Range<Int>
    /// Number of metrics (0 for other signals).
    var metricCount: Int { get }
    /// Marks a metric's own fields as changed.
    mutating func markMetricModified(_ metric: Int)

    /// Appends an integer field for each item of a record or event context (rows, or events
    /// with `eventOwners`); false when the field is not an integer column of that context.
    func gather(
        _ field: RuleField, _ items: [Int32], _ context: RuleContext, _ eventOwners: [Int32],
        into column: inout [Int64]
    ) -> Bool
}

extension RuleBatch {
    /// Spans and log records have no metrics. Allocates nothing.
    func metricIndex(ofPoint row: Int) -> Int { 0 }
    func scopeIndex(ofMetric metric: Int) -> Int { 0 }
    func pointRows(ofMetric metric: Int) -> Range<Int> { 0..<0 }
    var metricCount: Int { 0 }
    mutating func markMetricModified(_ metric: Int) {}

    /// The table an owner's attributes live in.
    @inline(__always)
    func attributeTable(_ owner: AttributeOwner) -> AttributeTable {
        owner == .event ? eventAttributeTable : attributes
    }

    /// The attribute range of an owner.
    @inline(__always)
    func attributeRange(_ owner: AttributeOwner, at position: RulePosition) -> RowRange {
        switch owner {
        case .resource: resources[position.resource].attributes
        case .scope: scopes[position.scope].attributes
        case .record: recordAttributes[position.row]
        case .event: eventAttributeRange(at: position)
        }
    }

    /// The first value of `key` among an owner's attributes.
    @inline(__always)
    func attribute(_ owner: AttributeOwner, at position: RulePosition, key: UnsafeRawBufferPointer, _ bytes: BatchBytes)
        -> AnyValueRef?
    {
        findAttribute(attributeTable(owner), attributeRange(owner, at: position), key: key, bytes)
    }

    /// Runs `body` on an owner's attribute table, range and the batch storage at once.
    @inline(__always)
    mutating func editAttributes<Result>(
        _ owner: AttributeOwner, at position: RulePosition,
        _ body: (inout AttributeTable, inout RowRange, inout SliceStorage) -> Result
    ) -> Result {
        switch owner {
        case .resource: editTables { body(&$0, &$2[position.resource].attributes, &$4) }
        case .scope: editTables { body(&$0, &$3[position.scope].attributes, &$4) }
        case .record: editTables { body(&$0, &$1[position.row], &$4) }
        case .event: editEventAttributes(at: position, body)
        }
    }

    /// Runs `body` on the record attribute table, every record's range and the batch storage at
    /// once (editors that change many records in one pass).
    @inline(__always)
    mutating func editRecordAttributes<Result>(
        _ body: (inout AttributeTable, inout [RowRange], inout SliceStorage) -> Result
    ) -> Result {
        editTables { table, records, _, _, storage in body(&table, &records, &storage) }
    }

    /// Marks what holds the field at `position` of `context` as changed, so encoders write it
    /// from columns.
    mutating func markModified(_ context: RuleContext, at position: RulePosition) {
        switch context {
        case .resource: resources[position.resource].isModified = true
        case .scope: scopes[position.scope].isModified = true
        case .span, .spanevent, .log, .datapoint: markModified(position.row)
        case .metric: markMetricModified(position.metric)
        }
    }

    /// The position of item `index` of `context`.
    func position(of index: Int, in context: RuleContext, eventOwners: [Int32]) -> RulePosition {
        var position = RulePosition()
        switch context {
        case .resource:
            position.resource = index
            return position
        case .scope:
            position.scope = index
        case .span, .log:
            position.row = index
            position.scope = scopeIndex(ofRow: index)
        case .datapoint:
            position.row = index
            position.metric = metricIndex(ofPoint: index)
            position.scope = scopeIndex(ofRow: index)
        case .metric:
            position.metric = index
            position.scope = scopeIndex(ofMetric: index)
        case .spanevent:
            position.event = index
            position.row = Int(eventOwners[index])
            position.scope = scopeIndex(ofRow: position.row)
        }
        position.resource = Int(scopes[position.scope].resourceIndex)
        return position
    }

    /// A field other than attributes and cache.
    @inline(__always)
    func readField(_ field: RuleField, at position: RulePosition, _ bytes: BatchBytes) -> RuleValue {
        readContainerField(field, at: position) ?? readRecordField(field, at: position, bytes)
    }

    /// Writes a field other than attributes and cache. Strings go to the arena.
    @inline(__always)
    mutating func writeField(_ field: RuleField, at position: RulePosition, _ value: RuleValue)
        throws(RuleRuntimeError)
    {
        if try !writeContainerField(field, at: position, value) { try writeRecordField(field, at: position, value) }
    }

    /// Resource and scope fields, and the record ids and flags both signals have; nil for
    /// other fields.
    func readContainerField(_ field: RuleField, at position: RulePosition) -> RuleValue? {
        let row = position.row
        switch field {
        case .traceID(let hex):
            return hex ? .string(traceIDs[row].isZero ? "" : traceIDs[row].description) : .traceID(traceIDs[row])
        case .spanID(let hex):
            return hex ? .string(spanIDs[row].isZero ? "" : spanIDs[row].description) : .spanID(spanIDs[row])
        case .flags: return .int(Int64(flags[row]))
        case .droppedAttributesCount(.resource): return .int(Int64(resources[position.resource].droppedAttributesCount))
        case .droppedAttributesCount(.scope): return .int(Int64(scopes[position.scope].droppedAttributesCount))
        case .scopeName: return .text(scopes[position.scope].name)
        case .scopeVersion: return .text(scopes[position.scope].version)
        default: return nil
        }
    }

    /// Writes a resource or scope field, or a record id or flags; false for other fields.
    mutating func writeContainerField(_ field: RuleField, at position: RulePosition, _ value: RuleValue)
        throws(RuleRuntimeError) -> Bool
    {
        let row = position.row
        switch field {
        case .traceID:
            traceIDs[row] = try storage.reading { bytes throws(RuleRuntimeError) in try traceIDValue(from: value, bytes)
            }
        case .spanID:
            spanIDs[row] = try storage.reading { bytes throws(RuleRuntimeError) in try spanIDValue(from: value, bytes) }
        case .flags: flags[row] = UInt32(truncatingIfNeeded: try storedInt(value, field: "flags"))
        case .droppedAttributesCount(.resource):
            resources[position.resource].droppedAttributesCount = UInt32(
                clamping: try storedInt(value, field: "dropped_attributes_count"))
        case .droppedAttributesCount(.scope):
            scopes[position.scope].droppedAttributesCount = UInt32(
                clamping: try storedInt(value, field: "dropped_attributes_count"))
        case .scopeName: scopes[position.scope].name = try storedString(value, &storage, field: "name")
        case .scopeVersion: scopes[position.scope].version = try storedString(value, &storage, field: "version")
        default: return false
        }
        return true
    }

    /// Marks the owner of an attribute table as changed.
    mutating func markModified(_ owner: AttributeOwner, at position: RulePosition) {
        switch owner {
        case .resource: markModified(RuleContext.resource, at: position)
        case .scope: markModified(RuleContext.scope, at: position)
        case .record, .event: markModified(RuleContext.span, at: position)
        }
    }
}

/// A body given a batch's attribute table, every record's attribute range, the resource and
/// scope entries and the storage at once.
typealias TableEditor<Result> = (
    _ table: inout AttributeTable, _ records: inout [RowRange], _ resources: inout [ResourceEntry],
    _ scopes: inout [ScopeEntry], _ storage: inout SliceStorage
) -> Result

/// Attribute lookup shared by both batch types.
@inline(__always)
func findAttribute(_ table: AttributeTable, _ range: RowRange, key: UnsafeRawBufferPointer, _ bytes: BatchBytes)
    -> AnyValueRef?
{
    table.keys.withUnsafeBufferPointer { keys in
        for index in range.range where keyEquals(bytes[keys[index]], key) {
            return table.values[index]
        }
        return nil
    }
}

/// Byte equality for short keys: lengths, then the first and last words, then the rest.
@inline(__always)
func keyEquals(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    let count = a.count
    guard count > 0 else { return true }
    // Safe: both buffers hold `count` bytes, and words are read only when count >= 8.
    if count >= 8 {
        guard a.loadUnaligned(as: UInt64.self) == b.loadUnaligned(as: UInt64.self),
            a.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
                == b.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        else { return false }
        return count <= 16 || memcmp(a.baseAddress!, b.baseAddress!, count) == 0
    }
    return memcmp(a.baseAddress!, b.baseAddress!, count) == 0
}

/// Converts a value for storage in a batch column or attribute: strings and nested values that
/// are not already in the batch go to the arena. Nil for `nil` (which leaves the target as it is).
func storedValue(_ value: RuleValue, _ storage: inout SliceStorage) -> AnyValueRef? {
    switch value {
    case .null: return nil
    case .bool(let flag): return AnyValueRef(kind: .bool, payload: flag ? 1 : 0)
    case .int(let number), .time(let number), .duration(let number):
        return AnyValueRef(kind: .int, payload: UInt64(bitPattern: number))
    case .double(let number): return AnyValueRef(kind: .double, payload: number.bitPattern)
    case .text(let slice): return .slice(.string, slice)
    case .byteSlice(let slice): return .slice(.bytes, slice)
    case .rawMap(let slice): return .slice(.keyValueList, slice)
    case .rawList(let slice): return .slice(.array, slice)
    case .string(let string): return .slice(.string, storage.appendToArena(string.utf8))
    case .bytes(let data): return .slice(.bytes, storage.appendToArena(data))
    case .traceID(let id): return .slice(.string, storage.appendToArena(id.description.utf8))
    case .spanID(let id): return .slice(.string, storage.appendToArena(id.description.utf8))
    case .map(let map):
        let content = storage.withBytes { RawAnyValue.encodeMap(map, $0) }
        return .slice(.keyValueList, storage.appendToArena(content))
    case .list(let items):
        let content = storage.withBytes { RawAnyValue.encodeList(items, $0) }
        return .slice(.array, storage.appendToArena(content))
    }
}

/// A string value as a slice of the batch (copied to the arena when owned).
func storedString(_ value: RuleValue, _ storage: inout SliceStorage, field: String) throws(RuleRuntimeError)
    -> ByteSlice
{
    switch value {
    case .text(let slice): return slice
    case .string(let string): return storage.appendToArena(string.utf8)
    default: throw RuleRuntimeError("\(field) takes a string, not \(value.typeName)")
    }
}

/// An integer value for an integer column.
func storedInt(_ value: RuleValue, field: String) throws(RuleRuntimeError) -> Int64 {
    switch value {
    case .int(let number), .time(let number), .duration(let number): return number
    default: throw RuleRuntimeError("\(field) takes an int, not \(value.typeName)")
    }
}

/// Parses 2×`count` hex digits.
func hexBytes(_ text: String, count: Int) -> [UInt8]? {
    let digits = Array(text.utf8)
    guard digits.count == count * 2 else { return nil }
    var bytes: [UInt8] = []
    for index in stride(from: 0, to: digits.count, by: 2) {
        guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
            return nil
        }
        bytes.append(byte)
    }
    return bytes
}

func traceIDValue(from value: RuleValue, _ bytes: BatchBytes) throws(RuleRuntimeError) -> TraceID {
    switch value {
    case .traceID(let id): return id
    default:
        guard let text = value.string(bytes), let raw = hexBytes(text, count: 16) else {
            throw RuleRuntimeError("a trace id needs 32 hex digits")
        }
        let high = raw[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let low = raw[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return TraceID(high: high, low: low)
    }
}

func spanIDValue(from value: RuleValue, _ bytes: BatchBytes) throws(RuleRuntimeError) -> SpanID {
    switch value {
    case .spanID(let id): return id
    default:
        guard let text = value.string(bytes), let raw = hexBytes(text, count: 8) else {
            throw RuleRuntimeError("a span id needs 16 hex digits")
        }
        return SpanID(raw.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

extension SliceStorage {
    /// `withBytes` for a body with typed throws.
    func reading<Value>(_ body: (BatchBytes) throws(RuleRuntimeError) -> Value) throws(RuleRuntimeError) -> Value {
        let result: Result<Value, RuleRuntimeError> = withBytes { bytes in
            Result { () throws(RuleRuntimeError) -> Value in try body(bytes) }
        }
        return try result.get()
    }
}
