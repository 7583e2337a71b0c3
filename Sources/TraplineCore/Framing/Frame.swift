/// Limits and overrides for reading one input.
public struct ReadOptions: Sendable {
    /// The layout, or `.auto` to detect it from the bytes.
    public var inputFormat: InputFormat = .auto
    /// The signal of protobuf requests, or `nil` to tell it from each request's records.
    public var signal: Signal?
    /// The largest protobuf frame accepted, in bytes (below 2 GiB).
    public var maxFrameBytes: Int = 256 << 20
    /// The most bytes a gzip input may inflate to.
    public var maxDecompressedBytes: Int = 4 << 30
    /// Text lines longer than this are split into several records, in bytes (at least 4, so a
    /// split keeps every UTF-8 character whole).
    public var maxLineBytes: Int = 1 << 20
    /// For regular files framed as protobuf streams: hand out frames as file regions for the
    /// consumer to read (`Frame.load`), instead of slices of a memory mapping. Workers then read
    /// their frames in parallel into their own buffers, and no worker faults on pages of a
    /// mapping it shares with the others.
    public var deferFileFrames = false
    /// Asked between reads: true ends the input there, as if it had ended (a graceful stop on
    /// SIGTERM).
    public var stopRequested: (@Sendable () -> Bool)?
    /// A descriptor that becomes readable when a stop is requested (the read end of a pipe a
    /// signal handler writes to), so a read blocked on a live stream wakes up whichever thread
    /// the signal went to.
    public var stopDescriptor: Int32?

    /// Makes the defaults. Allocates nothing.
    public init() {}
}

/// What one protobuf or text frame holds.
@_spi(Plumbing) public enum FramePayload: Hashable, Sendable {
    /// One OTLP protobuf export request of this signal.
    case protobuf(Signal)
    /// Text lines starting at line `firstLine` (1-based); `continuesLine` when the frame starts
    /// in the middle of a line too long for one record.
    case text(firstLine: Int, continuesLine: Bool)
    /// One log record of several lines (a followed file's `multiline` record: a stack trace
    /// with its message) starting at line `firstLine`: the whole frame, without its last line
    /// terminator, is the body.
    case textRecord(firstLine: Int)
    /// One OTLP JSON document (a JSON line, or a pretty-printed document) starting at line
    /// `firstLine`.
    case json(firstLine: Int)
}

/// One unit of input to decode into a batch.
@_spi(Plumbing) public struct Frame: Sendable {
    /// The buffer holding the frame (shared with the batch decoded from it).
    public var input: InputBuffer
    /// The frame's bytes within `input`.
    public var range: Range<Int>
    /// Offset of the frame in its source.
    public var sourceOffset: Int
    /// What the bytes are.
    public var payload: FramePayload
    /// Where the bytes still are, for a frame handed out before being read (`ReadOptions.
    /// deferFileFrames`); `input` is empty until `load` reads them.
    public var fileRegion: FileRegion?

    /// A frame of bytes already in memory (a request body a receiver read whole).
    public init(
        input: InputBuffer, range: Range<Int>, sourceOffset: Int = 0, payload: FramePayload,
        fileRegion: FileRegion? = nil
    ) {
        self.input = input
        self.range = range
        self.sourceOffset = sourceOffset
        self.payload = payload
        self.fileRegion = fileRegion
    }
}

/// A frame's place in a file, read later by whoever decodes it.
@_spi(Plumbing) public struct FileRegion: Hashable, Sendable {
    /// The open file (owned by the `FrameReader`, open until it is closed).
    public var descriptor: Int32
    /// Offset of the frame's first byte.
    public var offset: Int
    /// The frame's length.
    public var count: Int
}

extension Frame {
    /// The frame with its bytes in memory: itself, or a deferred frame read into `buffer`
    /// (grown as needed and reused frame after frame by one worker).
    ///
    /// - Returns: nil when the file no longer holds the frame (it shrank while being read).
    public func load(into buffer: inout UnsafeMutableRawBufferPointer) -> Frame? {
        guard let region = fileRegion else { return self }
        if buffer.count < region.count {
            if buffer.count > 0 { buffer.deallocate() }
            buffer = .allocate(byteCount: max(region.count, 64 << 10) * 2, alignment: 16)
        }
        var done = 0
        while done < region.count {
            let read = pread(
                region.descriptor, buffer.baseAddress! + done, region.count - done, off_t(region.offset + done))
            if read < 0 && errno == EINTR { continue }
            guard read > 0 else { return nil }
            done += read
        }
        let bytes = UnsafeRawBufferPointer(start: buffer.baseAddress, count: region.count)
        return Frame(
            input: InputBuffer(borrowing: bytes), range: 0..<region.count, sourceOffset: sourceOffset, payload: payload)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The next thing an input yields.
@_spi(Plumbing) public enum FrameEvent: Sendable {
    /// A frame to decode.
    case frame(Frame)
    /// Bytes that could not be framed or decoded at all, and how many records they count for.
    case rejected(DecodeError, records: Int)
}
