/// Which rows of a batch go on to the output. Stages clear rows they drop; encoders skip
/// cleared rows, and the scopes and resources left without rows.
///
/// Storage is reused: `reset(count:)` keeps its capacity.
public struct RowMask: Sendable {
    /// One flag per row; `true` means the row is kept.
    public private(set) var kept: [Bool] = []
    /// Rows kept.
    public private(set) var keptCount = 0

    /// Makes an empty mask. Allocates nothing.
    public init() {}

    /// Keeps all `count` rows. Allocates only when `count` exceeds the capacity of an earlier batch.
    public mutating func reset(count: Int) {
        kept.removeAll(keepingCapacity: true)
        kept.append(contentsOf: repeatElement(true, count: count))
        keptCount = count
    }

    /// Drops `row`; returns whether it was kept until now. Allocates nothing.
    @discardableResult
    public mutating func drop(_ row: Int) -> Bool {
        guard kept[row] else { return false }
        kept[row] = false
        keptCount -= 1
        return true
    }

    /// Whether every row is kept (the encoders' fast path).
    public var keepsAll: Bool { keptCount == kept.count }
}
