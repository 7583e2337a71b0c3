#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The unread bytes of one input: either a whole memory-mapped file (frames are slices of the
/// mapping, no copy) or a sliding buffer over a stream (each frame is copied out once, so the
/// buffer can be reused and memory stays bounded by the largest frame).
final class ByteWindow {
    private enum Backing {
        case mapped(InputBuffer)
        case streamed(any ByteStream)
    }

    private var backing: Backing
    private var storage: UnsafeMutableRawPointer?
    private var capacity = 0
    /// Start of the unread bytes in `storage` (or the mapping).
    private var start = 0
    /// End of the bytes read so far.
    private var end = 0
    /// Source offset of `storage[0]` (streams drop bytes once consumed).
    private var baseOffset = 0
    /// How far a mapping's pages have been given back (`releaseMapped`), from its start.
    private var releasedUpTo = 0
    /// Whether the stream has reported its end.
    private(set) var isAtStreamEnd: Bool
    /// Bad input that ended the stream early (corrupt gzip, the decompression cap). The bytes
    /// before it stay readable; the reader reports it once they are used up.
    private(set) var streamFailure: DecodeError?

    /// A window over a whole mapped (or already read) buffer whose first byte is at
    /// `sourceOffset` in its source (a piece of a followed file read after the rest).
    init(mapped: InputBuffer, sourceOffset: Int = 0) {
        backing = .mapped(mapped)
        end = mapped.bytes.count
        baseOffset = sourceOffset
        isAtStreamEnd = true
    }

    /// A window over a stream.
    init(stream: any ByteStream, initialCapacity: Int = 128 << 10) {
        backing = .streamed(stream)
        capacity = initialCapacity
        storage = UnsafeMutableRawPointer.allocate(byteCount: initialCapacity, alignment: 16)
        isAtStreamEnd = false
    }

    deinit { storage?.deallocate() }

    /// An empty buffer, for frames whose bytes are still in their file.
    let emptyInput = InputBuffer([])

    /// Whether frames are zero-copy slices of a mapping.
    var isMapped: Bool {
        if case .mapped = backing { return true }
        return false
    }

    /// Whether the window is over a mapped file found to have shrunk while it was read: its
    /// bytes end before the mapping does, maybe in the middle of a record. Noted by `fill` (and
    /// `noteLostBytes`) only, so what a reader sees between two fills stays the same whenever
    /// another thread's fault reveals the loss.
    private(set) var lostItsEnd = false

    /// For a mapped file that shrank while read: the bytes end where the file's bytes end now.
    func noteLostBytes() {
        guard case .mapped(let buffer) = backing, buffer.hasLostBytes else { return }
        end = max(start, min(end, buffer.intactCount))
        lostItsEnd = true
    }

    /// Source offset of the first unread byte.
    var offset: Int { baseOffset + start }

    /// The unread bytes read so far. Valid until the next `fill` or `consume`.
    var available: UnsafeRawBufferPointer {
        switch backing {
        case .mapped(let buffer): return UnsafeRawBufferPointer(rebasing: buffer.bytes[start..<end])
        case .streamed: return UnsafeRawBufferPointer(start: storage! + start, count: end - start)
        }
    }

    /// Reads until at least `count` unread bytes are available or the stream ends.
    ///
    /// - Parameter returningAtLineEnd: also stop after a read that brought a line break: on a
    ///   live stream (a pipe a writer trickles lines into) the lines already complete go on
    ///   now instead of waiting for `count` bytes or the end.
    /// - Returns: whether `count` bytes are available.
    @discardableResult
    func fill(atLeast count: Int, returningAtLineEnd: Bool = false) throws(StreamError) -> Bool {
        guard case .streamed(var stream) = backing else {
            noteLostBytes()
            return end - start >= count
        }
        if returningAtLineEnd && end - start < count && available.contains(0x0A) { return false }
        defer { backing = .streamed(stream) }
        while end - start < count && !isAtStreamEnd {
            if capacity - start < count || end == capacity {
                makeRoom(for: count)
            }
            let room = UnsafeMutableRawBufferPointer(start: storage! + end, count: capacity - end)
            do throws(StreamError) {
                let read = try stream.read(into: room)
                if read == 0 {
                    isAtStreamEnd = true
                } else {
                    end += read
                    if returningAtLineEnd
                        && UnsafeRawBufferPointer(start: storage! + end - read, count: read).contains(0x0A)
                    {
                        break
                    }
                }
            } catch {
                guard case .input(let failure) = error.failure else { throw error }
                streamFailure = failure
                isAtStreamEnd = true
            }
        }
        return end - start >= count
    }

    /// Reads to the end of the stream, or until more than `limit` bytes are unread.
    ///
    /// - Returns: whether the whole rest of the input fits in `limit`.
    func fillToEnd(limit: Int) throws(StreamError) -> Bool {
        while !isAtStreamEnd {
            let wanted = max(end - start + (1 << 20), end - start + 1)
            if try fill(atLeast: min(wanted, limit + 1)), end - start > limit { return false }
        }
        return end - start <= limit
    }

    private func makeRoom(for count: Int) {
        let unread = end - start
        // Move unread bytes to the front; grow when they plus the request do not fit.
        let needed = max(count, unread + 1)
        if needed > capacity {
            var newCapacity = capacity
            while newCapacity < needed { newCapacity *= 2 }
            let newStorage = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
            newStorage.copyMemory(from: storage! + start, byteCount: unread)
            storage!.deallocate()
            storage = newStorage
            capacity = newCapacity
        } else if start > 0 {
            storage!.copyMemory(from: storage! + start, byteCount: unread)
        }
        baseOffset += start
        start = 0
        end = unread
    }

    /// Hands out the next `count` unread bytes as a frame and consumes them.
    func takeFrame(count: Int) -> (input: InputBuffer, range: Range<Int>, sourceOffset: Int) {
        precondition(count <= end - start, "frame larger than the unread bytes")
        let sourceOffset = offset
        switch backing {
        case .mapped(let buffer):
            defer { start += count }
            return (buffer, start..<(start + count), sourceOffset)
        case .streamed:
            let copy = InputBuffer(copying: UnsafeRawBufferPointer(start: storage! + start, count: count))
            start += count
            return (copy, 0..<count, sourceOffset)
        }
    }

    /// Consumes `count` unread bytes without handing them out.
    func consume(_ count: Int) {
        start += min(count, end - start)
    }

    /// Gives a mapped file's pages before source offset `sourceOffset` back to the kernel, in
    /// steps of at least `releaseStep` bytes (one `madvise` per step); nothing for a stream,
    /// whose buffer is reused anyway. Bytes handed out before stay readable (see
    /// `InputBuffer.releaseResidentPages`).
    func releaseMapped(before sourceOffset: Int) {
        guard case .mapped(let buffer) = backing else { return }
        let end = min(sourceOffset - baseOffset, start)
        guard end - releasedUpTo >= Self.releaseStep else { return }
        releasedUpTo = buffer.releaseResidentPages(releasedUpTo..<end)
    }

    /// Enough bytes that the `madvise` calls cost nothing beside reading them.
    static let releaseStep = 4 << 20

    /// Reads from the underlying stream past what is buffered (used once the buffered bytes
    /// were handed to a decompressor).
    func readUnbuffered(into target: UnsafeMutableRawBufferPointer) throws(StreamError) -> Int {
        guard case .streamed(var stream) = backing else { return 0 }
        defer { backing = .streamed(stream) }
        return try stream.read(into: target)
    }

    /// Consumes everything, including what the stream has not delivered yet.
    func discardRest() throws(StreamError) {
        start = end
        while !isAtStreamEnd {
            start = 0
            end = 0
            try fill(atLeast: capacity)
            start = end
        }
    }
}

/// The part of a streamed window's input not read yet (after its buffered bytes were taken).
struct WindowRest: ByteStream {
    let window: ByteWindow

    mutating func read(into target: UnsafeMutableRawBufferPointer) throws(StreamError) -> Int {
        try window.readUnbuffered(into: target)
    }
}
