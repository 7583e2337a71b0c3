/// A view of bytes owned by a batch: either a range of the retained input frame or a range of
/// the batch's arena (bytes that had to be rewritten, such as replaced invalid UTF-8).
///
/// Slices are 8 bytes so columns of them stay dense; a frame is therefore limited to 2 GiB
/// (`FrameLimits.maxFrameBytes` enforces it) and the top bit of `start` marks the arena.
public struct ByteSlice: Hashable, Sendable {
    /// Offset of the first byte; the top bit set means the offset is into the batch arena.
    public var start: UInt32
    /// Number of bytes.
    public var count: UInt32

    /// Marks `start` as an arena offset.
    @usableFromInline static let arenaFlag: UInt32 = 1 << 31

    /// The empty slice.
    public static let empty = ByteSlice(start: 0, count: 0)

    /// A slice of the input frame.
    ///
    /// - Precondition: `start + count` is below 2^31 (frames are capped at 2 GiB).
    ///
    /// Allocates nothing.
    @inlinable
    public init(start: UInt32, count: UInt32) {
        self.start = start
        self.count = count
    }

    /// A slice of the batch arena. Allocates nothing.
    @inlinable
    public static func arena(start: Int, count: Int) -> ByteSlice {
        ByteSlice(start: UInt32(truncatingIfNeeded: start) | arenaFlag, count: UInt32(truncatingIfNeeded: count))
    }

    /// Whether the bytes live in the batch arena rather than the input frame.
    @inlinable public var isArena: Bool { start & Self.arenaFlag != 0 }

    /// The offset inside its storage (input frame or arena).
    @inlinable public var offset: Int { Int(start & ~Self.arenaFlag) }

    /// Whether the slice has no bytes.
    @inlinable public var isEmpty: Bool { count == 0 }

    /// Packs the slice into one word, for `AnyValueRef` payloads.
    @inlinable var packed: UInt64 { UInt64(start) << 32 | UInt64(count) }

    /// Unpacks a slice stored with `packed`.
    @inlinable init(packed: UInt64) {
        self.init(start: UInt32(truncatingIfNeeded: packed >> 32), count: UInt32(truncatingIfNeeded: packed))
    }
}
