@_spi(Plumbing) public import TraplineCore

/// A stream that hands out its bytes in chunks of given sizes (then whatever is left), as a
/// pipe or socket might.
@_spi(Plumbing) public struct ChunkedStream: ByteStream {
    private let bytes: [UInt8]
    private var chunkSizes: [Int]
    private var position = 0

    /// Delivers `bytes`, `chunkSizes[0]` at the first read, and so on; the last size repeats.
    public init(_ bytes: [UInt8], chunkSizes: [Int]) {
        self.bytes = bytes
        self.chunkSizes = chunkSizes.isEmpty ? [Int.max] : chunkSizes
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(StreamError) -> Int {
        let size = chunkSizes.count > 1 ? chunkSizes.removeFirst() : chunkSizes[0]
        let count = min(buffer.count, size, bytes.count - position)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + position, byteCount: count)
        }
        position += count
        return count
    }
}

/// What a `FrameReader` yielded, in a comparable form.
@_spi(Plumbing) public enum FramingEvent: Hashable, Sendable, CustomStringConvertible {
    case frame(payload: FramePayload, sourceOffset: Int, bytes: [UInt8])
    case rejected(code: String, offset: Int, records: Int)

    public var description: String {
        switch self {
        case .frame(let payload, let offset, let bytes): return "frame(\(payload) at \(offset), \(bytes.count) bytes)"
        case .rejected(let code, let offset, let records): return "rejected(\(code) at \(offset), \(records) records)"
        }
    }
}

/// Checks that framing does not depend on how the bytes arrive: the input whole (in memory),
/// byte by byte, and split in two at every offset must give the same frames and rejections.
@_spi(Plumbing) public enum FramingVerifier {
    /// Every event of a reader, to its end.
    public static func events(_ reader: FrameReader) throws -> [FramingEvent] {
        var reader = reader
        var events: [FramingEvent] = []
        while let event = try reader.next() {
            switch event {
            case .frame(let frame):
                events.append(
                    .frame(
                        payload: frame.payload, sourceOffset: frame.sourceOffset,
                        bytes: Array(frame.input.bytes[frame.range])))
            case .rejected(let error, let records):
                events.append(.rejected(code: error.reason.name, offset: error.offset, records: records))
            }
        }
        return events
    }

    /// The events for `bytes` read whole from memory.
    public static func wholeEvents(_ bytes: [UInt8], options: ReadOptions = ReadOptions()) throws -> [FramingEvent] {
        try events(FrameReader(name: "test", buffer: InputBuffer(bytes), options: options))
    }

    /// The arrangements that disagree with reading `bytes` whole, described; empty when all agree.
    ///
    /// - Parameter maxSplits: split offsets tried (evenly spread when the input is longer).
    public static func disagreements(_ bytes: [UInt8], options: ReadOptions = ReadOptions(), maxSplits: Int = 400)
        throws -> [String]
    {
        let expected = try wholeEvents(bytes, options: options)
        var problems: [String] = []
        let byteByByte = try events(
            FrameReader(name: "test", stream: ChunkedStream(bytes, chunkSizes: [1]), options: options))
        if byteByByte != expected { problems.append("byte by byte: \(byteByByte) != \(expected)") }
        let step = max(1, bytes.count / maxSplits)
        for split in stride(from: 1, through: max(1, bytes.count), by: step) {
            let chunked = try events(
                FrameReader(name: "test", stream: ChunkedStream(bytes, chunkSizes: [split, Int.max]), options: options))
            if chunked != expected { problems.append("split at \(split): \(chunked) != \(expected)") }
            if problems.count > 3 { break }
        }
        return problems
    }
}
