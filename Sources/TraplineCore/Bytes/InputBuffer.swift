import CMappingGuard

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Immutable bytes that batches point into: a memory-mapped file, or a heap copy of bytes read
/// from a stream. Shared by every batch decoded from it and released when the last one goes.
///
/// A class because it is shared storage with identity; it is immutable after `init`, so it is
/// safe to share across tasks.
public final class InputBuffer: @unchecked Sendable {
    /// The bytes. Valid for the lifetime of this object.
    public let bytes: UnsafeRawBufferPointer

    private enum Ownership {
        case heap
        /// A file mapping, its file's descriptor (kept open to tell the file's size should it
        /// shrink) and its SIGBUS guard's slot (-1: unguarded).
        case mapped(length: Int, descriptor: Int32, guardSlot: Int32)
        /// Memory someone else owns and keeps alive (a worker's reusable frame buffer).
        case borrowed
        /// A pool's buffer, handed back when this goes.
        case pooled(InputBufferPool, UnsafeMutableRawBufferPointer)
    }

    private let ownership: Ownership

    /// Copies `source` into a new heap buffer.
    ///
    /// Allocates once, sized by the bytes actually present (never by a declared length).
    public init(copying source: UnsafeRawBufferPointer) {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(source.count, 1), alignment: 16)
        if let base = source.baseAddress, source.count > 0 {
            storage.baseAddress!.copyMemory(from: base, byteCount: source.count)
        }
        bytes = UnsafeRawBufferPointer(start: storage.baseAddress, count: source.count)
        ownership = .heap
    }

    /// Copies an array's bytes into a new buffer. Allocates the buffer, sized by the array.
    public init(_ array: [UInt8]) {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(array.count, 1), alignment: 16)
        array.withUnsafeBytes { source in
            if let base = source.baseAddress, source.count > 0 {
                storage.baseAddress!.copyMemory(from: base, byteCount: source.count)
            }
        }
        bytes = UnsafeRawBufferPointer(start: storage.baseAddress, count: array.count)
        ownership = .heap
    }

    /// Takes ownership of `count` bytes at the start of `storage` (allocated with `allocate`),
    /// which it deallocates when it goes: bytes read straight into their buffer, never copied.
    /// Allocates only the buffer object.
    package init(adopting storage: UnsafeMutableRawBufferPointer, count: Int) {
        bytes = UnsafeRawBufferPointer(start: storage.baseAddress, count: min(count, storage.count))
        ownership = .heap
    }

    /// Takes `count` bytes at the start of `storage` (from `pool.take`), handed back to the
    /// pool when this buffer goes. Allocates only the buffer object.
    package init(pooled storage: UnsafeMutableRawBufferPointer, count: Int, pool: InputBufferPool) {
        bytes = UnsafeRawBufferPointer(start: storage.baseAddress, count: min(count, storage.count))
        ownership = .pooled(pool, storage)
    }

    /// Wraps memory owned elsewhere, which must outlive every use of this buffer's bytes (a
    /// worker's reusable frame buffer: the worker's batch is reset before the buffer is reused).
    /// Allocates only the buffer object; copies nothing.
    public init(borrowing bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        ownership = .borrowed
    }

    /// Takes ownership of a read-only mapping made with `mmap` of the file open as `descriptor`
    /// (closed when this buffer goes), and guards it: should the file shrink while it is read,
    /// the bytes past its new end read as zeros instead of raising SIGBUS, and `intactCount`
    /// says where the file's bytes end.
    init(adoptingMapping base: UnsafeRawPointer, length: Int, descriptor: Int32) {
        bytes = UnsafeRawBufferPointer(start: base, count: length)
        let slot = trapline_mapping_guard_add(base, length)
        ownership = .mapped(length: length, descriptor: descriptor, guardSlot: Int32(slot))
    }

    /// How many of the leading bytes are the file's: all of them, unless the mapped file shrank
    /// while it was read, in which case the bytes from here on are not what the file held (they
    /// read as zeros) and whatever was read of them must be rejected. An atomic load while the
    /// file is whole; a `fstat` once it has shrunk.
    package var intactCount: Int {
        guard case .mapped(_, let descriptor, let slot) = ownership, slot >= 0 else { return bytes.count }
        let lostFrom = trapline_mapping_guard_lost_from(slot)
        guard lostFrom >= 0 else { return bytes.count }
        // The fault that noted the loss was on a page past the file's new end; the page holding
        // that end reads as zeros after it without one. The file's size says where its bytes end.
        var info = stat()
        let size = fstat(descriptor, &info) == 0 ? Int(info.st_size) : 0
        return min(Int(lostFrom), size, bytes.count)
    }

    /// Whether the mapped file shrank while it was read, so bytes from `intactCount` on are not
    /// the file's (see `intactCount`). An atomic load; false for memory Trapline owns.
    package var hasLostBytes: Bool {
        guard case .mapped(_, _, let slot) = ownership, slot >= 0 else { return false }
        return trapline_mapping_guard_lost_from(slot) >= 0
    }

    /// Lets the kernel take back the resident pages of a mapped file's bytes in `range` (whole
    /// pages only). The bytes stay readable: a later read maps them again from the file, which
    /// only costs a fault. For memory Trapline owns (heap, pooled, borrowed) this does nothing,
    /// as dropping those pages would lose the bytes.
    ///
    /// A replay calls this behind the frames it has written, so reading a file of any size keeps
    /// a bounded resident set instead of the whole mapping (a 223 MB JSON lines file showed
    /// 246-254 MiB of RSS without it, 34-44 MiB with it).
    ///
    /// - Returns: where the pages given back end (a page boundary; the start of `range` when
    ///   none were), so the next range can start there and leave no page behind.
    @discardableResult
    package func releaseResidentPages(_ range: Range<Int>) -> Int {
        guard case .mapped = ownership, let base = bytes.baseAddress else { return range.lowerBound }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = max(range.lowerBound, 0) / page * page
        let end = min(range.upperBound, bytes.count) / page * page
        guard end > start else { return range.lowerBound }
        madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
        return end
    }

    deinit {
        switch ownership {
        case .heap:
            UnsafeMutableRawPointer(mutating: bytes.baseAddress)?.deallocate()
        case .borrowed:
            break
        case .pooled(let pool, let storage):
            pool.giveBack(storage)
        case .mapped(let length, let descriptor, let slot):
            // Unguarded first: the address range may be mapped again for something else.
            trapline_mapping_guard_remove(slot)
            if let base = bytes.baseAddress, length > 0 {
                munmap(UnsafeMutableRawPointer(mutating: base), length)
            }
            close(descriptor)
        }
    }
}
