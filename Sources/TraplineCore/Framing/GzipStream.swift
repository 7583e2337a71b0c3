import CZlib

/// Inflates gzip data (every member of a multi-member file) from another stream, with a cap on
/// the decompressed size so a gzip bomb ends in a clear error instead of a full disk or memory.
public struct GzipStream<Inner: ByteStream>: ByteStream {
    private var inner: Inner
    private let state: InflateState
    private var inputEnded = false
    private var finished = false
    /// Decompressed bytes produced so far.
    public private(set) var decompressedCount = 0
    /// Compressed bytes consumed so far.
    public private(set) var compressedCount = 0
    /// The cap on decompressed bytes.
    public let maxDecompressedBytes: Int

    /// Wraps `inner`, whose first bytes are the gzip magic.
    public init(_ inner: Inner, maxDecompressedBytes: Int) {
        self.inner = inner
        self.state = InflateState()
        self.maxDecompressedBytes = maxDecompressedBytes
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(StreamError) -> Int {
        if let pendingFailure {
            self.pendingFailure = nil
            finished = true
            throw pendingFailure
        }
        if finished || buffer.count == 0 { return 0 }
        // One byte past the cap is allowed, so going over it is seen without inflating more.
        let allowance = maxDecompressedBytes - decompressedCount + 1
        let stream = state.stream
        stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = UInt32(min(buffer.count, allowance, Int(UInt32.max)))
        let room = Int(stream.pointee.avail_out)
        do throws(StreamError) {
            try inflateInto(stream)
        } catch {
            // Hand out what was inflated before the failure; report the failure on the next read.
            let produced = room - Int(stream.pointee.avail_out)
            decompressedCount += produced
            if produced == 0 { throw error }
            pendingFailure = error
            return produced
        }
        let produced = room - Int(stream.pointee.avail_out)
        decompressedCount += produced
        if decompressedCount > maxDecompressedBytes {
            let failure = StreamError(
                .input(DecodeError(.decompressedTooLarge, offset: maxDecompressedBytes, limit: maxDecompressedBytes)))
            // Only the byte past the cap came out: fail now, since returning 0 would read as the end.
            if produced == 1 {
                finished = true
                throw failure
            }
            pendingFailure = failure
            return produced - 1
        }
        return produced
    }

    private var pendingFailure: StreamError?

    private mutating func inflateInto(_ stream: UnsafeMutablePointer<z_stream>) throws(StreamError) {
        while stream.pointee.avail_out > 0 {
            if stream.pointee.avail_in == 0 && !inputEnded {
                let count = try inner.read(into: state.input)
                if count == 0 {
                    inputEnded = true
                } else {
                    stream.pointee.next_in = state.input.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.pointee.avail_in = UInt32(count)
                }
            }
            if stream.pointee.avail_in == 0 && inputEnded {
                if state.inMember { throw corrupt("gzip data ends inside a member") }
                finished = true
                break
            }
            if !state.inMember {
                // Between members: only another gzip member may follow.
                guard stream.pointee.next_in.pointee == 0x1F else {
                    throw corrupt("trailing bytes after the last gzip member")
                }
                inflateReset(stream)
                state.inMember = true
            }
            let availableBefore = stream.pointee.avail_in
            let result = inflate(stream, Z_NO_FLUSH)
            compressedCount += Int(availableBefore - stream.pointee.avail_in)
            if result == Z_STREAM_END {
                state.inMember = false
            } else if result == Z_BUF_ERROR {
                continue  // needs more input; the loop reads it
            } else if result != Z_OK {
                throw corrupt(stream.pointee.msg.map { String(cString: $0) } ?? "inflate error \(result)")
            }
        }
    }

    private func corrupt(_ reason: String) -> StreamError {
        _ = reason  // zlib's text is not kept: the code and offsets say what and where
        let produced = Int(state.stream.pointee.total_out)
        return StreamError(.input(DecodeError(.corruptGzip, offset: produced, value: compressedCount)))
    }
}

/// zlib's stream state and input buffer (a class: zlib keeps pointers into it).
private final class InflateState {
    let stream: UnsafeMutablePointer<z_stream>
    let input: UnsafeMutableRawBufferPointer
    var inMember = true

    init() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = .allocate(byteCount: 64 * 1024, alignment: 16)
        // 15 + 16: a gzip header is required (zlib or raw deflate are not gzip).
        inflateInit2_(stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }
}
