#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Splits one input (file, or stdin as `-`) into frames: detects compression and layout from
/// the bytes, inflates gzip, and cuts protobuf streams and text into frames with bounded memory.
@_spi(Plumbing) public struct FrameReader {
    /// The input's name, as rejections report it.
    public let path: String
    /// The layout in use, once detected.
    public private(set) var format: InputFormat?
    private let options: ReadOptions
    private var window: ByteWindow
    private var isInflating = false
    private var descriptor: Int32 = -1
    private var finished = false
    private var nextLine = 1
    private var continuesLine = false
    /// The signal of the last request whose records told it.
    private var lastSignal: Signal?
    /// A plain file read frame by frame with `pread` (see `ReadOptions.deferFileFrames`).
    private var deferred: DeferredFile?

    private struct DeferredFile {
        let descriptor: Int32
        let size: Int
        var position: Int
    }

    /// The layout of a plain file when frames can be deferred: a length-prefixed or
    /// varint-delimited protobuf stream, not compressed.
    private static func deferrableFormat(descriptor: Int32, size: Int, options: ReadOptions) -> InputFormat? {
        var head = [UInt8](repeating: 0, count: min(size, FormatDetector.preferredPrefixLength))
        let read = head.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard read == head.count else { return nil }
        let detected =
            options.inputFormat == .auto
            ? head.withUnsafeBytes { FormatDetector.detect($0, isComplete: size == head.count) }
            : .format(options.inputFormat)
        switch detected {
        case .format(.otlpProtoLengthPrefixed): return .otlpProtoLengthPrefixed
        case .format(.otlpProtoVarintDelimited): return .otlpProtoVarintDelimited
        default: return nil
        }
    }

    /// The next frame of a deferred file: its prefix and the head of its content are read
    /// here (for the length and the signal); the rest is left for `Frame.load`.
    private mutating func nextDeferred() throws(IOFailure) -> FrameEvent? {
        // Runs of empty frames are skipped inside, one run a turn (a loop, not recursion).
        while true {
            guard let file = deferred, !finished else { return nil }
            let position = file.position
            let event = try nextDeferredOrSkip()
            if event != nil || finished || deferred?.position == position { return event }
        }
    }

    /// The next deferred frame, or nil after skipping a run of empty frames (the caller loops).
    private mutating func nextDeferredOrSkip() throws(IOFailure) -> FrameEvent? {
        guard var file = deferred, !finished else { return nil }
        if options.stopRequested?() == true || file.position >= file.size {
            finish()
            return nil
        }
        var prefix = [UInt8](repeating: 0, count: 10)
        let got = try readAt(&prefix, offset: file.position, file: file)
        let offset = file.position
        if got < min(prefix.count, file.size - offset) {
            // Fewer bytes than the file had when it was opened: it was truncated meanwhile.
            finish()
            return .rejected(DecodeError(.inputShrank, offset: offset, value: file.size - offset), records: 1)
        }
        var prefixLength = 0
        var length = -1
        if format == .otlpProtoLengthPrefixed {
            if got >= 4 {
                prefixLength = 4
                length = Int(prefix[0]) << 24 | Int(prefix[1]) << 16 | Int(prefix[2]) << 8 | Int(prefix[3])
            }
        } else {
            prefix.withUnsafeBytes { bytes in
                var reader = WireReader(frame: UnsafeRawBufferPointer(rebasing: bytes[..<got]))
                if let value = try? reader.readVarint(), value <= UInt64(Int32.max) {
                    prefixLength = reader.position
                    length = Int(value)
                }
            }
        }
        guard length >= 0 else {
            finish()
            return .rejected(DecodeError(.truncatedFrame, offset: offset, value: got, limit: got), records: 1)
        }
        if length == 0 {
            // Empty requests hold no record: skip the run of zero bytes a chunk at a time (one
            // `pread` per empty frame made 100 MiB of zeros take a minute).
            // The empty frame itself first (its varint may be overlong, 0x80 0x00), then the run.
            let unit = format == .otlpProtoLengthPrefixed ? 4 : 1
            file.position = try endOfZeroRun(from: offset + prefixLength, file: file, unit: unit)
            deferred = file
            return nil
        }
        if length > options.maxFrameBytes {
            finish()
            return .rejected(
                DecodeError(.frameTooLarge, offset: offset, value: length, limit: options.maxFrameBytes), records: 1)
        }
        let start = offset + prefixLength
        guard start + length <= file.size else {
            finish()
            return .rejected(
                DecodeError(.truncatedFrame, offset: offset, value: length, limit: file.size - start), records: 1)
        }
        // The signal from the frame's head; the whole frame only when its head does not tell.
        var head = [UInt8](repeating: 0, count: min(length, 4096))
        guard try readAt(&head, offset: start, file: file) == head.count else {
            finish()
            return .rejected(DecodeError(.inputShrank, offset: offset, value: length), records: 1)
        }
        var signal = options.signal ?? head.withUnsafeBytes { SignalDetector.detect($0, clipped: true) }
        if signal == nil && options.signal == nil && length > head.count {
            var whole = [UInt8](repeating: 0, count: length)
            _ = try readAt(&whole, offset: start, file: file)
            signal = whole.withUnsafeBytes { SignalDetector.detect($0) }
        }
        if let signal { lastSignal = signal }
        file.position = start + length
        deferred = file
        let region = FileRegion(descriptor: file.descriptor, offset: start, count: length)
        return .frame(
            Frame(
                input: window.emptyInput, range: 0..<0, sourceOffset: start, payload: .protobuf(lastSignal ?? .traces),
                fileRegion: region))
    }

    /// Where the run of zero bytes from `offset` ends, in whole `unit`s.
    private func endOfZeroRun(from offset: Int, file: DeferredFile, unit: Int) throws(IOFailure) -> Int {
        // Small first (a lone empty frame costs one short read), larger while the run goes on.
        var chunk = [UInt8](repeating: 0, count: 256)
        var position = offset
        while position < file.size {
            let got = try readAt(&chunk, offset: position, file: file)
            guard got > 0 else { break }
            let zeros = chunk.withUnsafeBytes {
                FormatDetector.leadingZeroCount(UnsafeRawBufferPointer(rebasing: $0[..<got]))
            }
            position += zeros
            if zeros < got || options.stopRequested?() == true { break }
            if chunk.count < 1 << 20 { chunk = [UInt8](repeating: 0, count: chunk.count * 16) }
        }
        return offset + (position - offset) / unit * unit
    }

    private func readAt(_ buffer: inout [UInt8], offset: Int, file: DeferredFile) throws(IOFailure) -> Int {
        let count = min(buffer.count, file.size - offset)
        var done = 0
        while done < count {
            let read = buffer.withUnsafeMutableBytes {
                pread(file.descriptor, $0.baseAddress! + done, count - done, off_t(offset + done))
            }
            if read < 0 && errno == EINTR { continue }
            if read < 0 { throw IOFailure(path: path, operation: "read", errorNumber: errno) }
            if read == 0 { break }
            done += read
        }
        return done
    }
    /// Whether JSON input is one document per line (else whole documents, pretty-printed).
    private var jsonLines: Bool?
    /// Whether the input is live (a pipe, FIFO, socket or terminal a writer may trickle into):
    /// complete lines are framed as soon as they arrive instead of waiting for a full buffer.
    public private(set) var isLive = false
    /// The live input's descriptor, polled by `inputIsReady`.
    private var liveDescriptor: Int32 = -1

    /// Opens `path` (`-` for stdin). Regular files are memory-mapped; pipes, stdin and gzip input
    /// are streamed.
    ///
    /// - Throws: `IOFailure` when the file cannot be opened, read or mapped.
    public init(path: String, options: ReadOptions = ReadOptions()) throws(IOFailure) {
        self.path = path
        self.options = options
        let descriptor: Int32
        if path == "-" {
            descriptor = STDIN_FILENO
        } else {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw IOFailure(path: path, operation: "open", errorNumber: errno) }
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let failure = IOFailure(path: path, operation: "stat", errorNumber: errno)
            if path != "-" { Glibc.close(descriptor) }
            throw failure
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            if path != "-" { Glibc.close(descriptor) }
            throw IOFailure(path: path, operation: "read", errorNumber: EISDIR)
        }
        let stream = FileDescriptorStream(
            descriptor: descriptor, path: path, stopRequested: options.stopRequested,
            stopDescriptor: options.stopDescriptor)
        if options.deferFileFrames && info.st_mode & S_IFMT == S_IFREG && info.st_size > 0 && path != "-",
            let format = Self.deferrableFormat(descriptor: descriptor, size: Int(info.st_size), options: options)
        {
            // Protobuf stream in a plain file: frames are handed out as regions, read by workers.
            self.descriptor = descriptor
            self.format = format
            deferred = DeferredFile(descriptor: descriptor, size: Int(info.st_size), position: 0)
            window = ByteWindow(mapped: InputBuffer([]))
            return
        }
        if info.st_mode & S_IFMT == S_IFREG && info.st_size > 0 && path != "-" {
            let length = Int(info.st_size)
            guard let base = mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, 0), base != MAP_FAILED else {
                let failure = IOFailure(path: path, operation: "mmap", errorNumber: errno)
                Glibc.close(descriptor)
                throw failure
            }
            madvise(base, length, MADV_SEQUENTIAL)
            // The buffer keeps the descriptor (to tell the file's size should it shrink).
            let mapped = InputBuffer(adoptingMapping: UnsafeRawPointer(base), length: length, descriptor: descriptor)
            if length >= 2 && mapped.bytes[0] == 0x1F && mapped.bytes[1] == 0x8B {
                window = ByteWindow(
                    stream: GzipStream(MappedStream(mapped), maxDecompressedBytes: options.maxDecompressedBytes))
                isInflating = true
            } else {
                window = ByteWindow(mapped: mapped)
            }
        } else {
            self.descriptor = path == "-" ? -1 : descriptor
            window = ByteWindow(stream: stream)
            let type = info.st_mode & S_IFMT
            isLive = type == S_IFIFO || type == S_IFSOCK || type == S_IFCHR
            liveDescriptor = isLive ? descriptor : -1
        }
    }

    /// On a live input, whether reading on will not wait for the writer: bytes are waiting (a
    /// writer ahead of the reader), or the writer is gone (the end of the input, or an error, is
    /// there to be read). A pipe whose writer closed polls as hung up, not readable: taken for
    /// "not ready", the end of stdin waited out every held whole-trace window's decision wait
    /// and every batch's timeout before it was read. Allocates nothing.
    public func inputIsReady() -> Bool {
        guard liveDescriptor >= 0 else { return false }
        var ready = pollfd(fd: liveDescriptor, events: Int16(POLLIN), revents: 0)
        return poll(&ready, 1, 0) > 0 && ready.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0
    }

    /// Reads from an already open stream (a socket, a test's chunked stream …).
    ///
    /// - Parameters:
    ///   - name: how rejections name the input.
    ///   - stream: the bytes; gzip is detected and inflated as for files.
    ///   - options: limits and the input format.
    public init(name: String, stream: some ByteStream, options: ReadOptions = ReadOptions()) {
        self.path = name
        self.options = options
        window = ByteWindow(stream: stream)
    }

    /// Reads from bytes already in memory, without copying them.
    public init(name: String, buffer: InputBuffer, options: ReadOptions = ReadOptions()) {
        self.init(name: name, piece: buffer, format: .auto, sourceOffset: 0, firstLine: 1, options: options)
    }

    /// Reads a piece of a longer input already in memory (the bytes a followed file gained),
    /// without copying it: offsets and line numbers in frames and rejections count from where
    /// the piece starts in its file, and `format` is the layout the file was detected as
    /// (`auto`: told from the bytes). gzip is inflated, its layout told from what it holds.
    ///
    /// - Parameters:
    ///   - continuesLine: the piece starts in the middle of a line split for its length.
    ///   - jsonLines: whether JSON in the piece is JSON lines, when the caller knows (a
    ///     followed file, told once from its first piece with `isJSONLines`); nil: told from
    ///     the piece's first 64 KiB, a scan each piece would repeat.
    ///
    /// Allocates the window.
    public init(
        name: String, piece: InputBuffer, format: InputFormat, sourceOffset: Int, firstLine: Int,
        continuesLine: Bool = false, jsonLines: Bool? = nil, options: ReadOptions = ReadOptions()
    ) {
        self.path = name
        self.options = options
        nextLine = firstLine
        self.continuesLine = continuesLine
        self.jsonLines = jsonLines
        if piece.bytes.count >= 2 && piece.bytes[0] == 0x1F && piece.bytes[1] == 0x8B {
            window = ByteWindow(
                stream: GzipStream(MappedStream(piece), maxDecompressedBytes: options.maxDecompressedBytes))
            isInflating = true
        } else {
            self.format = format == .auto ? nil : format
            window = ByteWindow(mapped: piece, sourceOffset: sourceOffset)
        }
    }

    /// How far into its input the reader is, in bytes of the (decompressed) stream; for
    /// progress displays.
    public var position: Int { window.offset }

    /// Tells the reader that the frames before source offset `sourceOffset` are done with
    /// (decoded, written): a memory-mapped file's pages before it go back to the kernel, so the
    /// resident memory of reading a large file stays bounded by what is in flight. Frames
    /// handed out earlier stay valid (their bytes are read from the file again if touched).
    /// Does nothing for streamed input, whose buffer is reused anyway.
    public mutating func releaseInput(before sourceOffset: Int) {
        window.releaseMapped(before: sourceOffset)
    }

    /// Closes the input.
    public mutating func close() {
        if descriptor >= 0 {
            Glibc.close(descriptor)
            descriptor = -1
        }
    }

    /// The next frame or rejection, or `nil` at the end of the input.
    ///
    /// - Throws: `IOFailure` when reading fails; what was read before stays valid.
    public mutating func next() throws(IOFailure) -> FrameEvent? {
        guard !finished else { return nil }
        if deferred != nil { return try nextDeferred() }
        do throws(StreamError) {
            if format == nil, let event = try detect() { return event }
            guard let format else { return nil }
            switch format {
            case .otlpProto: return try nextSingleMessage()
            case .otlpProtoLengthPrefixed:
                return try nextPrefixed { window throws(StreamError) in try Self.bigEndianLength(window) }
            case .otlpProtoVarintDelimited:
                return try nextPrefixed { window throws(StreamError) in try Self.varintLength(window) }
            case .text: return try nextText()
            case .otlpJSON, .auto: return try nextJSON()
            }
        } catch {
            switch error.failure {
            case .io(let failure):
                finished = true
                throw failure
            case .input(let decodeError):
                // Bad compressed data: whatever was framed before stays; the rest is one rejection.
                finish()
                return .rejected(decodeError, records: 1)
            }
        }
    }

    /// Ends the input: a stream failure (corrupt gzip) explains a cut-off end better than the
    /// cut itself, so it is reported in its place; otherwise `cutOff`, or nothing.
    private mutating func endOfInput(_ cutOff: DecodeError?) -> FrameEvent? {
        finish()
        if let failure = window.streamFailure { return .rejected(failure, records: 1) }
        if var cutOff, window.lostItsEnd {
            // Cut off by the file shrinking while it was read, not by how it was written.
            cutOff.reason = .inputShrank
            return .rejected(cutOff, records: 1)
        }
        return cutOff.map { .rejected(interruptedIfStopped($0), records: 1) }
    }

    /// Whether a stop (SIGTERM, SIGINT) ended a stream that was still arriving; a mapped file
    /// is whole whatever the stop, so its cut-off frames are the file's own.
    private var stoppedMidStream: Bool { !window.isMapped && options.stopRequested?() == true }

    /// A frame cut off because a stop ended the stream is `interrupted`, not damaged input.
    private func interruptedIfStopped(_ error: DecodeError) -> DecodeError {
        guard stoppedMidStream else { return error }
        var error = error
        error.reason = .interrupted
        return error
    }

    private mutating func finish() {
        finished = true
        // Deferred frames are read from the file after the reader hands them out: it stays
        // open until its owner calls `close()`.
        if deferred == nil { close() }
    }

    /// Detects compression (for streams) and layout; returns an event when the input ends here.
    private mutating func detect() throws(StreamError) -> FrameEvent? {
        // On a live input that starts like text or JSON (a printable first byte), a complete
        // first line is enough to tell the format; binary framings start with a length or a tag
        // byte and wait for the whole prefix, as they would from a file.
        var lineIsEnough = false
        if isLive {
            try window.fill(atLeast: 1)
            if let first = window.available.first {
                lineIsEnough = (0x20...0x7E).contains(first) || first == 0x09 || first == 0xEF
            }
        }
        try window.fill(atLeast: FormatDetector.preferredPrefixLength, returningAtLineEnd: lineIsEnough)
        // Only the first bytes decide, as for a stream: walking a whole mapped file's framing
        // here would be a serial pass over all of it before any worker starts.
        var available = window.available
        var prefixLength = FormatDetector.preferredPrefixLength
        var prefix = UnsafeRawBufferPointer(rebasing: available.prefix(prefixLength))
        var detected = FormatDetector.detect(
            prefix, isComplete: window.isAtStreamEnd && prefix.count == available.count)
        // Text whose first line fills the prefix (JSON lines of large requests, its first one
        // broken): the next line's start is the evidence, so look further, within a bound.
        while options.inputFormat == .auto, detected == .format(.text),
            !window.isAtStreamEnd || prefix.count < available.count,
            prefixLength < FormatDetector.maxPrefixLength, !prefix.contains(0x0A)
        {
            prefixLength *= 4
            try window.fill(atLeast: prefixLength)
            available = window.available
            prefix = UnsafeRawBufferPointer(rebasing: available.prefix(prefixLength))
            detected = FormatDetector.detect(
                prefix, isComplete: window.isAtStreamEnd && prefix.count == available.count)
        }
        // Whitespace alone is no record of a JSON or protobuf input, but a line of spaces is a
        // text record: asked for text, only input without a byte is empty.
        if options.inputFormat != .auto, detected != .empty || (options.inputFormat == .text && prefix.count > 0) {
            detected = .format(options.inputFormat)
        }
        switch detected {
        case .empty:
            // Nothing to read, or a gzip input whose only member failed its checks: say which.
            return endOfInput(nil)
        case .zstd:
            return try rejectAll(.unsupportedCompression)
        case .gzip:
            if window.isMapped || isInflating { return try rejectAll(.unsupportedCompression) }
            // A gzip stream (stdin, pipe): inflate it and detect again.
            try restartInflating()
            return try detect()
        case .format(let format):
            self.format = format
            return nil
        }
    }

    /// Switches a stream whose first bytes are gzip to inflating, keeping the bytes read so far.
    private mutating func restartInflating() throws(StreamError) {
        let readSoFar = Array(window.available)
        let rest = WindowRest(window: window)
        window = ByteWindow(
            stream: GzipStream(
                PrefixedStream(prefix: readSoFar, rest: rest), maxDecompressedBytes: options.maxDecompressedBytes))
        isInflating = true
    }

    private mutating func rejectAll(_ reason: Rejection.Reason) throws(StreamError) -> FrameEvent {
        let offset = window.offset
        try window.discardRest()
        finish()
        return .rejected(DecodeError(reason, offset: offset), records: 1)
    }

    private mutating func signal(of frame: (input: InputBuffer, range: Range<Int>, sourceOffset: Int)) -> Signal {
        if let signal = options.signal { return signal }
        // A request with no record that tells (none, or only empty ones) takes the signal of the
        // stream so far, or traces: it has no records to lose either way.
        if let detected = SignalDetector.detect(UnsafeRawBufferPointer(rebasing: frame.input.bytes[frame.range])) {
            lastSignal = detected
        }
        return lastSignal ?? .traces
    }

    private mutating func nextSingleMessage() throws(StreamError) -> FrameEvent? {
        let fits = try window.fillToEnd(limit: options.maxFrameBytes)
        let count = window.available.count
        let offset = window.offset
        finished = true
        close()
        if let failure = window.streamFailure {
            // The message never arrived whole: nothing in it can be trusted to be complete.
            return .rejected(failure, records: 1)
        }
        if stoppedMidStream {
            // The stop ended the stream, not the sender: the message may be missing its end.
            try window.discardRest()
            return .rejected(DecodeError(.interrupted, offset: offset, value: count), records: 1)
        }
        guard fits else {
            try window.discardRest()
            return .rejected(
                DecodeError(.frameTooLarge, offset: offset, value: count, limit: options.maxFrameBytes), records: 1)
        }
        let frame = window.takeFrame(count: count)
        return .frame(
            Frame(
                input: frame.input, range: frame.range, sourceOffset: frame.sourceOffset,
                payload: .protobuf(signal(of: frame))))
    }

    /// Reads one length prefix: `(prefix bytes, frame length)`, or `nil` at a clean end.
    private typealias LengthReader = (ByteWindow) throws(StreamError) -> (Int, Int)?

    private static func bigEndianLength(_ window: ByteWindow) throws(StreamError) -> (Int, Int)? {
        guard try window.fill(atLeast: 4) else { return window.available.isEmpty ? nil : (window.available.count, -1) }
        let bytes = window.available
        return (4, Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3]))
    }

    private static func varintLength(_ window: ByteWindow) throws(StreamError) -> (Int, Int)? {
        try window.fill(atLeast: 10)
        let bytes = window.available
        if bytes.isEmpty { return nil }
        var reader = WireReader(frame: bytes)
        guard let length = try? reader.readVarint(), length <= UInt64(Int32.max) else {
            return (min(bytes.count, 10), -1)
        }
        return (reader.position, Int(length))
    }

    private mutating func nextPrefixed(_ readLength: LengthReader) throws(StreamError) -> FrameEvent? {
        var offset = window.offset
        guard var (prefixLength, length) = try readLength(window) else {
            return endOfInput(nil)
        }
        // Empty requests hold no record: a run of them is skipped at memory speed, not handed
        // out one by one (100 MiB of zero bytes is 26 million of them). A loop, not recursion:
        // overlong empty varints (0x80 0x00) are not zero bytes, and a file of them must not
        // grow the stack.
        while length == 0 && prefixLength > 0 {
            window.consume(prefixLength)
            try skipZeroBytes(inUnitsOf: format == .otlpProtoLengthPrefixed ? 4 : 1)
            if options.stopRequested?() == true { return endOfInput(nil) }
            offset = window.offset
            guard let next = try readLength(window) else { return endOfInput(nil) }
            (prefixLength, length) = next
        }
        guard length >= 0 else {
            // The prefix itself is cut off or unreadable: nothing after it can be framed.
            try window.discardRest()
            return endOfInput(DecodeError(.truncatedFrame, offset: offset, value: prefixLength, limit: prefixLength))
        }
        if length > options.maxFrameBytes {
            try window.discardRest()
            finish()
            return .rejected(
                DecodeError(.frameTooLarge, offset: offset, value: length, limit: options.maxFrameBytes), records: 1)
        }
        guard try window.fill(atLeast: prefixLength + length) else {
            let left = window.available.count - prefixLength
            try window.discardRest()
            return endOfInput(DecodeError(.truncatedFrame, offset: offset, value: length, limit: left))
        }
        window.consume(prefixLength)
        let frame = window.takeFrame(count: length)
        return .frame(
            Frame(
                input: frame.input, range: frame.range, sourceOffset: frame.sourceOffset,
                payload: .protobuf(signal(of: frame))))
    }

    /// Consumes the zero bytes that follow, in whole `unit`s (4 for big-endian prefixes, 1 for
    /// varints), a word at a time.
    private mutating func skipZeroBytes(inUnitsOf unit: Int) throws(StreamError) {
        while true {
            if options.stopRequested?() == true { return }
            try window.fill(atLeast: 64 << 10)
            let bytes = window.available
            let zeros = FormatDetector.leadingZeroCount(bytes)
            let skip = zeros - zeros % unit
            window.consume(skip)
            // The run ended inside what was read, or the input ended: done.
            if zeros < bytes.count || skip == 0 || window.isAtStreamEnd && window.available.count < unit { return }
        }
    }

    private mutating func nextText() throws(StreamError) -> FrameEvent? {
        // At least one UTF-8 character's worth, so a split never has to cut a character.
        let chunk = max(options.maxLineBytes, 4)
        try window.fill(atLeast: chunk + 1, returningAtLineEnd: isLive)
        let bytes = window.available
        guard !bytes.isEmpty else { return endOfInput(nil) }
        var cut: Int
        var splitsLine = false
        // A file cut short while read may end in the middle of a line: the lines before it go
        // on alone, so the cut line's rejection (`input_shrank`) takes none of them along.
        let endsInCutLine = bytes.last != 0x0A && window.lostItsEnd
        if bytes.count <= chunk && window.isAtStreamEnd && !endsInCutLine {
            cut = bytes.count
        } else if let lastBreak = Self.lastLineBreak(bytes, before: min(bytes.count, chunk + 1)) {
            cut = lastBreak + 1
        } else if bytes.count <= chunk && window.isAtStreamEnd {
            // Only the cut line is left: a frame of its own, which a replay rejects.
            cut = bytes.count
        } else {
            // No line end within the limit: split the line, at a UTF-8 boundary when there is one.
            cut = min(bytes.count, chunk)
            // Step back over up to three continuation bytes to the first byte of the character
            // the cut falls in; a fourth continuation byte means there is no character to keep.
            var back = 0
            while back < 3 && cut - back > 0 && bytes[cut - back] & 0xC0 == 0x80 { back += 1 }
            if cut - back > 0 && bytes[cut - back] & 0xC0 != 0x80 { cut -= back }
            splitsLine = true
        }
        if bytes[cut - 1] == 0x0D {
            if cut < bytes.count && bytes[cut] == 0x0A {
                // The LF of a CRLF goes with its CR: alone in the next frame it would end a line more.
                cut += 1
            } else if cut == bytes.count && !window.isAtStreamEnd && cut > 1 {
                // A CR that may be the first half of a CRLF waits for the next frame.
                cut -= 1
            }
        }
        let frame = window.takeFrame(count: cut)
        let payload = FramePayload.text(firstLine: nextLine, continuesLine: continuesLine)
        nextLine += TextLogDecoder.lineBreakCount(UnsafeRawBufferPointer(rebasing: frame.input.bytes[frame.range]))
        continuesLine = splitsLine
        return .frame(Frame(input: frame.input, range: frame.range, sourceOffset: frame.sourceOffset, payload: payload))
    }

    private mutating func nextJSON() throws(StreamError) -> FrameEvent? {
        if jsonLines == nil {
            try window.fill(atLeast: FormatDetector.preferredPrefixLength, returningAtLineEnd: isLive)
            let bytes = window.available
            if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { window.consume(3) }
            jsonLines = Self.isJSONLines(
                UnsafeRawBufferPointer(rebasing: window.available.prefix(FormatDetector.preferredPrefixLength)))
        }
        return jsonLines == true ? try nextJSONLine() : try nextJSONDocument()
    }

    /// Whether JSON input starting with `bytes` (its first 64 KiB) is JSON lines: when its
    /// first document ends on the line it starts on, or the first line is not JSON at all.
    public static func isJSONLines(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var start = 0
        while start < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) { start += 1 }
        // A first line that is not JSON at all (detection saw JSON lines after it): lines.
        guard start < bytes.count, bytes[start] == UInt8(ascii: "{") || bytes[start] == UInt8(ascii: "[") else {
            return true
        }
        let end = JSONValueScanner.valueEnd(bytes, from: start) ?? bytes.count
        return !bytes[start..<end].contains(0x0A)
    }

    private mutating func nextJSONLine() throws(StreamError) -> FrameEvent? {
        while true {
            window.noteLostBytes()
            var bytes = window.available
            var newline = bytes.indexOfByte(0x0A)
            while newline == nil && !window.isAtStreamEnd && bytes.count <= options.maxFrameBytes {
                try window.fill(atLeast: max(bytes.count * 2, 64 << 10), returningAtLineEnd: isLive)
                bytes = window.available
                newline = bytes.indexOfByte(0x0A)
            }
            if bytes.isEmpty { return endOfInput(nil) }
            let lineEnd = newline ?? bytes.count
            let line = nextLine
            nextLine += 1
            if lineEnd > options.maxFrameBytes {
                let offset = window.offset
                // Skip the rest of the over-long line, wherever it ends.
                var skipped = min(lineEnd + 1, bytes.count)
                window.consume(skipped)
                while newline == nil && !window.isAtStreamEnd {
                    try window.fill(atLeast: 64 << 10)
                    let more = window.available
                    newline = more.indexOfByte(0x0A)
                    skipped = newline.map { $0 + 1 } ?? more.count
                    window.consume(skipped)
                }
                return .rejected(
                    DecodeError(.frameTooLarge, offset: offset, limit: options.maxFrameBytes, line: line, column: 1),
                    records: 1)
            }
            if newline == nil && stoppedMidStream {
                // The stop came in the middle of this line: the rest of it never arrived.
                let offset = window.offset
                window.consume(lineEnd)
                finish()
                return .rejected(
                    DecodeError(.interrupted, offset: offset, value: lineEnd, line: line, column: 1), records: 1)
            }
            var contentEnd = lineEnd
            if contentEnd > 0 && bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            let isBlank = bytes[0..<contentEnd].allSatisfy { $0 == 0x20 || $0 == 0x09 }
            if isBlank {
                window.consume(newline == nil ? lineEnd : lineEnd + 1)
                continue
            }
            let frame = window.takeFrame(count: contentEnd)
            window.consume(lineEnd - contentEnd + (newline == nil ? 0 : 1))
            return .frame(
                Frame(
                    input: frame.input, range: frame.range, sourceOffset: frame.sourceOffset,
                    payload: .json(firstLine: line)))
        }
    }

    private mutating func nextJSONDocument() throws(StreamError) -> FrameEvent? {
        // Leading white space between documents, counting the lines it holds.
        while true {
            try window.fill(atLeast: 1)
            let bytes = window.available
            guard !bytes.isEmpty else { return endOfInput(nil) }
            var index = 0
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) {
                if bytes[index] == 0x0A { nextLine += 1 }
                index += 1
            }
            window.consume(index)
            if index < bytes.count { break }
        }
        var bytes = window.available
        var end = JSONValueScanner.valueEnd(bytes, from: 0)
        while end == nil && !window.isAtStreamEnd {
            guard bytes.count <= options.maxFrameBytes else {
                let offset = window.offset
                try window.discardRest()
                finish()
                return .rejected(DecodeError(.frameTooLarge, offset: offset, limit: options.maxFrameBytes), records: 1)
            }
            try window.fill(atLeast: max(bytes.count * 2, 1 << 20))
            bytes = window.available
            end = JSONValueScanner.valueEnd(bytes, from: 0)
        }
        if end == nil && stoppedMidStream {
            let offset = window.offset
            try window.discardRest()
            finish()
            return .rejected(
                DecodeError(.interrupted, offset: offset, value: bytes.count, line: nextLine, column: 1), records: 1)
        }
        // A document cut off at the end still goes to the decoder, which says where it breaks.
        let count = end ?? bytes.count
        let line = nextLine
        nextLine += bytes[0..<count].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        let frame = window.takeFrame(count: count)
        return .frame(
            Frame(
                input: frame.input, range: frame.range, sourceOffset: frame.sourceOffset,
                payload: .json(firstLine: line)))
    }

    private static func lastLineBreak(_ bytes: UnsafeRawBufferPointer, before limit: Int) -> Int? {
        var index = limit - 1
        while index >= 0 {
            let byte = bytes[index]
            if byte == 0x0A || byte == 0x0D { return index }
            index -= 1
        }
        return nil
    }
}
