/// The bytes a batch's `ByteSlice`s point into: the retained input frame, and an arena for
/// bytes that are not in the input (repaired text, values set by stages).
public struct SliceStorage: Sendable {
    /// The buffer the frame lives in (kept alive by the batch).
    public private(set) var input: InputBuffer?
    /// The frame's bytes within `input`.
    public private(set) var frame: Range<Int> = 0..<0
    /// Offset of the frame in its source, for error offsets.
    public private(set) var frameSourceOffset: Int = 0
    /// Bytes written by the decoder or stages that are not in the input.
    public var arena: [UInt8] = []

    /// Makes empty storage. Allocates nothing.
    public init() {}

    /// Points at a new frame and empties the arena, keeping its capacity.
    /// Keeps the arena's capacity; allocates nothing.
    public mutating func reset(input: InputBuffer?, frame: Range<Int>, sourceOffset: Int) {
        self.input = input
        self.frame = frame
        frameSourceOffset = sourceOffset
        arena.removeAll(keepingCapacity: true)
    }

    /// Appends `bytes` to the arena and returns their slice.
    ///
    /// Inlinable so callers in other modules (stages) get it specialized for their sequence type
    /// instead of a generic call per value. Allocates only when the arena grows.
    @inlinable
    public mutating func appendToArena(_ bytes: some Sequence<UInt8>) -> ByteSlice {
        let start = arena.count
        arena.append(contentsOf: bytes)
        return .arena(start: start, count: arena.count - start)
    }

    /// Appends the bytes of `first` then `second` (slices of this storage) to the arena as one
    /// slice. A message field met twice is kept this way: on the wire, concatenating two
    /// encodings of a message is merging them, so copying the joined bytes out keeps the merge.
    /// Allocates only when the arena grows.
    public mutating func appendToArena(joining first: ByteSlice, _ second: ByteSlice) -> ByteSlice {
        // Copied out first: the arena may grow (and move) while it is appended to.
        let joined: [UInt8] = withBytes { Array($0[first]) + Array($0[second]) }
        return appendToArena(joined)
    }

    /// Calls `body` with the frame and arena bytes that slices point into.
    ///
    /// Inlinable: stages call it per item, so it must not cost a generic call.
    /// - Parameter body: receives a resolver valid only inside the call.
    ///
    /// Allocates nothing.
    @inlinable
    public func withBytes<Result>(_ body: (BatchBytes) throws -> Result) rethrows -> Result {
        try withExtendedLifetime(input) {
            let frameBytes =
                input.map { UnsafeRawBufferPointer(rebasing: $0.bytes[frame]) }
                ?? UnsafeRawBufferPointer(start: nil, count: 0)
            return try arena.withUnsafeBytes { arenaBytes in
                try body(BatchBytes(frame: frameBytes, arena: arenaBytes))
            }
        }
    }
}
