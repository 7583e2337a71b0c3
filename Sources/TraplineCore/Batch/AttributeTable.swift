/// Attributes of every resource, scope, span, event, link and log record of a batch, in flat
/// columns. An owner refers to its attributes with a `RowRange`.
public struct AttributeTable: Sendable {
    /// Attribute keys.
    public var keys: [ByteSlice] = []
    /// Attribute values.
    public var values: [AnyValueRef] = []

    /// Makes an empty table. Allocates nothing until the first append.
    public init() {}

    /// Number of attributes.
    @inlinable public var count: Int { keys.count }

    /// Appends one attribute. Allocates only when the columns grow (capacity is kept across `removeAll`).
    @inlinable
    public mutating func append(key: ByteSlice, value: AnyValueRef) {
        keys.append(key)
        values.append(value)
    }

    /// Drops attributes from `count` on (after a rejected record). Allocates nothing.
    @inlinable
    public mutating func truncate(to count: Int) {
        keys.removeSubrange(count...)
        values.removeSubrange(count...)
    }

    /// Copies the attributes of `range` to the end of the table and returns their new range,
    /// so an owner's attributes can grow without touching its neighbours'. Two bulk copies.
    /// Allocates only when the columns grow.
    @inlinable
    public mutating func copyToEnd(_ range: RowRange) -> RowRange {
        let start = keys.count
        let count = Int(range.count)
        guard count > 0 else { return RowRange(start: start, end: start) }
        keys.append(contentsOf: repeatElement(.empty, count: count))
        values.append(contentsOf: repeatElement(.absent, count: count))
        keys.withUnsafeMutableBufferPointer { buffer in
            // Safe: both ranges lie inside the buffer and do not overlap (the copy is past the end).
            buffer.baseAddress!.advanced(by: start).update(
                from: buffer.baseAddress!.advanced(by: Int(range.start)), count: count)
        }
        values.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.advanced(by: start).update(
                from: buffer.baseAddress!.advanced(by: Int(range.start)), count: count)
        }
        return RowRange(start: start, end: start + count)
    }

    /// `range` itself when it ends at the table's end, else a copy of its rows put there: either
    /// way, rows appended next extend it (a message field met twice merges its attributes).
    /// Allocates only when the columns grow.
    @inlinable
    public mutating func growableAtEnd(_ range: RowRange) -> RowRange {
        Int(range.start) + Int(range.count) == count ? range : copyToEnd(range)
    }

    /// Empties the table, keeping storage. Keeps the capacity; allocates nothing.
    public mutating func removeAll() {
        keys.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
    }
}

/// A contiguous range of rows in one of a batch's tables.
public struct RowRange: Hashable, Sendable {
    /// First row.
    public var start: UInt32
    /// Number of rows.
    public var count: UInt32

    /// Makes a range. Allocates nothing.
    @inlinable
    public init(start: Int, end: Int) {
        self.start = UInt32(truncatingIfNeeded: start)
        self.count = UInt32(truncatingIfNeeded: end - start)
    }

    /// The empty range.
    public static let empty = RowRange(start: 0, end: 0)

    /// The rows as a Swift range.
    @inlinable public var range: Range<Int> { Int(start)..<(Int(start) + Int(count)) }
}
