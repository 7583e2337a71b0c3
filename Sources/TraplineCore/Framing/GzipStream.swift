import CZlib

/// Inflates gzip data (every member of a multi-member file) from another stream, with a cap on
/// the decompressed size so a gzip bomb ends in a clear error instead of a full disk or memory.
///
/// A member's output is held back until its CRC-32 and length check out, so records from a
/// member that fails them are never handed on as good; only a member larger than
/// `maxHeldBytes` decompressed streams through (memory stays bounded), and a failed check at its
/// end is then reported after what it gave. Faults are told apart: `gzip_truncated`,
/// `gzip_checksum_mismatch`, `gzip_trailing_garbage`, `corrupt_gzip` (header or data); zero
/// bytes after the last member are padding, as gzip(1) takes them.
package struct GzipStream<Inner: ByteStream>: ByteStream {
    private var inner: Inner
    private let state: InflateState
    private var inputEnded = false
    private var finished = false
    /// Decompressed bytes inflated so far (held or handed out).
    package private(set) var decompressedCount = 0
    /// Compressed bytes consumed so far.
    package private(set) var compressedCount = 0
    /// The cap on decompressed bytes.
    package let maxDecompressedBytes: Int
    /// The largest member output held back until its checks pass.
    package let maxHeldBytes: Int
    /// Where the current member started: compressed and decompressed offsets.
    private var memberStart = (compressed: 0, decompressed: 0)
    /// The current member is too large to hold: it streams through.
    private var streamingMember = false
    /// Only zero bytes have followed the last member so far.
    private var inPadding = false
    private var pendingFailure: StreamError?

    /// Wraps `inner`, whose first bytes are the gzip magic.
    ///
    /// - Parameters:
    ///   - inner: the compressed bytes.
    ///   - maxDecompressedBytes: the cap on the whole stream's decompressed size.
    ///   - maxHeldBytes: members up to this size decompressed are checked before use.
    package init(_ inner: Inner, maxDecompressedBytes: Int, maxHeldBytes: Int = 64 << 20) {
        self.inner = inner
        self.state = InflateState()
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxHeldBytes = max(1, maxHeldBytes)
    }

    package mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(StreamError) -> Int {
        if buffer.count == 0 { return 0 }
        while true {
            if state.heldUnread > 0 { return state.handOut(into: buffer) }
            if let pendingFailure {
                self.pendingFailure = nil
                finished = true
                throw pendingFailure
            }
            if finished { return 0 }
            if streamingMember { return try readThrough(into: buffer) }
            try holdNextMember()
        }
    }

    /// Inflates the next member into the held buffer; its output becomes readable when the
    /// member ends with its checks passed, or when it outgrows the hold (then it streams on).
    private mutating func holdNextMember() throws(StreamError) {
        state.clearHeld()
        while true {
            let room = state.reserveHeld(upTo: min(maxHeldBytes - state.heldCount, 1 << 20))
            let allowance = maxDecompressedBytes - decompressedCount + 1
            let stream = state.stream
            stream.pointee.next_out = room.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = UInt32(min(room.count, allowance, Int(UInt32.max)))
            let offered = Int(stream.pointee.avail_out)
            let outcome: InflateOutcome
            do throws(StreamError) {
                outcome = try inflateInto(stream)
            } catch {
                if case .input(let failure) = error.failure, failure.reason == .gzipTruncated {
                    // Cut short (a writer killed mid-file): what inflated before the cut is as
                    // good as a truncated stream's whole frames; then the cut is reported.
                    let produced = offered - Int(stream.pointee.avail_out)
                    state.heldCount += produced
                    decompressedCount += produced
                    pendingFailure = error
                    return
                }
                // A failed check or bad data: nothing of the member is used.
                state.clearHeld()
                throw error
            }
            let produced = offered - Int(stream.pointee.avail_out)
            state.heldCount += produced
            decompressedCount += produced
            if decompressedCount > maxDecompressedBytes {
                // Over the cap: what came before the byte past it is handed out, then the failure.
                state.heldCount -= 1
                pendingFailure = StreamError(
                    .input(
                        DecodeError(.decompressedTooLarge, offset: maxDecompressedBytes, limit: maxDecompressedBytes)))
                return
            }
            switch outcome {
            case .memberEnded, .inputEnded:
                return
            case .outputFull:
                if state.heldCount >= maxHeldBytes {
                    // Too large to hold: hand out what is held and stream the rest of the member.
                    streamingMember = true
                    return
                }
            }
        }
    }

    /// Inflates straight into the caller's buffer (a member too large to hold).
    private mutating func readThrough(into buffer: UnsafeMutableRawBufferPointer) throws(StreamError) -> Int {
        // One byte past the cap is allowed, so going over it is seen without inflating more.
        let allowance = maxDecompressedBytes - decompressedCount + 1
        let stream = state.stream
        stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = UInt32(min(buffer.count, allowance, Int(UInt32.max)))
        let room = Int(stream.pointee.avail_out)
        var outcome = InflateOutcome.outputFull
        do throws(StreamError) {
            outcome = try inflateInto(stream)
        } catch {
            // Hand out what was inflated before the failure; report the failure on the next read.
            let produced = room - Int(stream.pointee.avail_out)
            decompressedCount += produced
            if produced == 0 { throw error }
            pendingFailure = error
            return produced
        }
        if outcome == .memberEnded { streamingMember = false }
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

    private enum InflateOutcome { case outputFull, memberEnded, inputEnded }

    /// Inflates until the output is full, the member ends or the input ends.
    private mutating func inflateInto(_ stream: UnsafeMutablePointer<z_stream>) throws(StreamError)
        -> InflateOutcome
    {
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
                if state.inMember { throw failure(.gzipTruncated) }
                finished = true
                return .inputEnded
            }
            if !state.inMember {
                // Between members: another member, or zero padding to the end (as gzip(1) takes it).
                let next = stream.pointee.next_in.pointee
                if next == 0 {
                    inPadding = true
                    stream.pointee.next_in += 1
                    stream.pointee.avail_in -= 1
                    compressedCount += 1
                    continue
                }
                guard next == 0x1F, !inPadding else { throw failure(.gzipTrailingGarbage, at: compressedCount) }
                inflateReset(stream)
                state.inMember = true
                // A member starts at the start of a call (the last one returned at its end), so no
                // output of this call precedes it.
                memberStart = (compressedCount, decompressedCount)
            }
            let availableBefore = stream.pointee.avail_in
            let result = inflate(stream, Z_NO_FLUSH)
            compressedCount += Int(availableBefore - stream.pointee.avail_in)
            if result == Z_STREAM_END {
                state.inMember = false
                return .memberEnded
            } else if result == Z_BUF_ERROR {
                continue  // needs more input; the loop reads it
            } else if result != Z_OK {
                let message = stream.pointee.msg.map { String(cString: $0) } ?? ""
                // zlib checks the trailer last: "incorrect data check" (CRC-32), "incorrect length check".
                throw failure(
                    message.hasPrefix("incorrect data") || message.hasPrefix("incorrect length")
                        ? .gzipChecksumMismatch : .corruptGzip)
            }
        }
        return .outputFull
    }

    /// A fault of the current member: `offset` is where its decompressed output began (what
    /// came before is good), `value` where it began in the compressed input.
    private func failure(_ reason: Rejection.Reason, at compressedOffset: Int? = nil) -> StreamError {
        let start = compressedOffset.map { ($0, decompressedCount) } ?? memberStart
        return StreamError(
            .input(DecodeError(reason, offset: start.1, value: start.0, limit: decompressedCount - start.1)))
    }
}

/// zlib's stream state, its input buffer and the held output of a member (a class: zlib keeps
/// pointers into it).
private final class InflateState {
    let stream: UnsafeMutablePointer<z_stream>
    let input: UnsafeMutableRawBufferPointer
    var inMember = true
    /// The held output: `heldCount` bytes in `held`, of which `heldRead` were handed out.
    private var held = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    var heldCount = 0
    private var heldRead = 0

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
        if held.count > 0 { held.deallocate() }
    }

    var heldUnread: Int { heldCount - heldRead }

    func clearHeld() {
        heldCount = 0
        heldRead = 0
    }

    /// Room for `count` more held bytes (the buffer grows by doubling, kept for the next member).
    func reserveHeld(upTo count: Int) -> UnsafeMutableRawBufferPointer {
        let needed = heldCount + max(count, 1)
        if needed > held.count {
            var capacity = max(held.count, 64 * 1024)
            while capacity < needed { capacity *= 2 }
            let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
            if heldCount > 0 { grown.copyMemory(from: UnsafeRawBufferPointer(rebasing: held[..<heldCount])) }
            if held.count > 0 { held.deallocate() }
            held = grown
        }
        return UnsafeMutableRawBufferPointer(rebasing: held[heldCount..<(heldCount + max(count, 1))])
    }

    func handOut(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(buffer.count, heldUnread)
        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: held[heldRead..<(heldRead + count)]))
        heldRead += count
        return count
    }
}

/// Whole gzip buffers in memory: request bodies, gzipped build logs.
package enum GzipBuffer {
    /// Inflates a whole gzip buffer (a request body, a gzipped build log), refusing to grow past
    /// `limit` bytes while inflating.
    ///
    /// - Throws: the `DecodeError` that stopped it: `decompressed_too_large`, `gzip_truncated`,
    ///   `gzip_checksum_mismatch`, `gzip_trailing_garbage` or `corrupt_gzip`.
    /// - Returns: the decompressed bytes (allocates them).
    package static func inflate(_ bytes: [UInt8], limit: Int) throws(DecodeError) -> [UInt8] {
        let result = bytes.withUnsafeBytes { bytes in
            Result { () throws(DecodeError) in try inflate(bytes, limit: limit) }
        }
        return try result.get()
    }

    /// Inflates gzip bytes the caller holds (read during the call only, not copied first).
    package static func inflate(_ bytes: UnsafeRawBufferPointer, limit: Int) throws(DecodeError) -> [UInt8] {
        var stream = GzipStream(MappedStream(InputBuffer(borrowing: bytes)), maxDecompressedBytes: limit)
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            var count = 0
            var failure: StreamError?
            chunk.withUnsafeMutableBytes { buffer in
                do throws(StreamError) { count = try stream.read(into: buffer) } catch { failure = error }
            }
            if let failure {
                guard case .input(let decodeError) = failure.failure else {
                    throw DecodeError(.corruptGzip, offset: output.count)
                }
                throw decodeError
            }
            if count == 0 { return output }
            output.append(contentsOf: chunk[0..<count])
        }
    }
}
