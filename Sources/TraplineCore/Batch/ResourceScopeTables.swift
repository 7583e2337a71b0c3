/// One `ResourceSpans`/`ResourceLogs` entry of a batch.
public struct ResourceEntry: Hashable, Sendable {
    /// The encoded `Resource` message, copied through on output; `nil` when absent.
    public var raw: ByteSlice?
    /// The resource's attributes, in the batch's attribute table.
    public var attributes: RowRange = .empty
    /// `Resource.dropped_attributes_count`.
    public var droppedAttributesCount: UInt32 = 0
    /// `schema_url` of the resource entry.
    public var schemaURL: ByteSlice = .empty
    /// This resource's scopes, in the batch's scope table.
    public var scopes: RowRange = .empty
    /// Whether a stage changed the resource's attributes or dropped count, so encoders write
    /// those from columns (other fields of `raw` are still copied).
    public var isModified = false

    /// Makes an entry. Allocates nothing.
    public init() {}
}

/// One `ScopeSpans`/`ScopeLogs` entry of a batch.
public struct ScopeEntry: Hashable, Sendable {
    /// The encoded `InstrumentationScope`, copied through on output; `nil` when absent.
    public var raw: ByteSlice?
    /// `InstrumentationScope.name`.
    public var name: ByteSlice = .empty
    /// `InstrumentationScope.version`.
    public var version: ByteSlice = .empty
    /// The scope's attributes, in the batch's attribute table.
    public var attributes: RowRange = .empty
    /// `InstrumentationScope.dropped_attributes_count`.
    public var droppedAttributesCount: UInt32 = 0
    /// `schema_url` of the scope entry.
    public var schemaURL: ByteSlice = .empty
    /// Index of the owning resource.
    public var resourceIndex: UInt32 = 0
    /// This scope's records (spans or log records), in the batch's row columns.
    public var rows: RowRange = .empty
    /// Whether a stage changed the scope's name, version, attributes or dropped count, so
    /// encoders write those from columns (other fields of `raw` are still copied).
    public var isModified = false

    /// Makes an entry. Allocates nothing.
    public init() {}
}
