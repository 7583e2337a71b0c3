#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// An environment failure while reading or writing: the path and the system's reason.
public struct IOFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file, directory or `-` for stdin/stdout.
    public var path: String
    /// What was being done (`open`, `read`, `mmap`, `write`, `rename` …).
    public var operation: String
    /// The `errno` value.
    public var errorNumber: Int32

    /// Makes a failure. Allocates nothing.
    public init(path: String, operation: String, errorNumber: Int32) {
        self.path = path
        self.operation = operation
        self.errorNumber = errorNumber
    }

    public var description: String {
        "\(path): \(operation) failed: \(String(cString: strerror(errorNumber)))"
    }
}

/// Something that yields bytes in order: a file descriptor, or a decompressor over one.
@_spi(Plumbing) public protocol ByteStream {
    /// Reads up to `buffer.count` bytes; returns 0 at the end.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(StreamError) -> Int
}

/// Why a stream stopped early: the environment, or bad compressed input.
@_spi(Plumbing) public enum StreamFailure: Sendable {
    case io(IOFailure)
    case input(DecodeError)
}

/// A `StreamFailure` as a typed error.
@_spi(Plumbing) public struct StreamError: Error, Sendable {
    /// What happened.
    public var failure: StreamFailure

    /// Makes an error.
    public init(_ failure: StreamFailure) { self.failure = failure }
}

/// Reads a file descriptor with large reads, retrying on `EINTR`.
@_spi(Plumbing) public struct FileDescriptorStream: ByteStream {
    /// The descriptor (not closed by this type).
    public let descriptor: Int32
    /// The path, for errors.
    public let path: String
    /// Whether to end the stream instead of reading on.
    public let stopRequested: (@Sendable () -> Bool)?
    /// Readable when a stop is requested; a read waits on it as well as on the input.
    public let stopDescriptor: Int32?

    /// Wraps an open descriptor.
    public init(
        descriptor: Int32, path: String, stopRequested: (@Sendable () -> Bool)? = nil, stopDescriptor: Int32? = nil
    ) {
        self.descriptor = descriptor
        self.path = path
        self.stopRequested = stopRequested
        self.stopDescriptor = stopDescriptor
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(StreamError) -> Int {
        while true {
            if stopRequested?() == true { return 0 }
            if let stopDescriptor {
                // Wait for input or for a stop, whichever comes first.
                var descriptors = [
                    pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: stopDescriptor, events: Int16(POLLIN), revents: 0),
                ]
                let ready = poll(&descriptors, 2, -1)
                if ready < 0 && errno == EINTR { continue }
                if descriptors[1].revents != 0 { return 0 }
            }
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno == EINTR {
                if stopRequested?() == true { return 0 }
                continue
            }
            throw StreamError(.io(IOFailure(path: path, operation: "read", errorNumber: errno)))
        }
    }
}

/// A mapped buffer read as a stream (for gzip files, inflated from their mapping). Bytes read
/// are copied out and never looked at again, so a mapped file's pages behind the reader go back
/// to the kernel as it goes (a gzip capture of any size keeps a bounded resident set).
struct MappedStream: ByteStream {
    let buffer: InputBuffer
    var position = 0
    /// How far the mapping's pages have been given back.
    private var released = 0

    init(_ buffer: InputBuffer) { self.buffer = buffer }

    mutating func read(into target: UnsafeMutableRawBufferPointer) throws(StreamError) -> Int {
        // A file that shrank while mapped ends where its bytes end: the inflater then reports a
        // cut-off stream instead of inflating zeros.
        let count = min(target.count, max(0, buffer.intactCount - position))
        if count > 0 {
            target.baseAddress!.copyMemory(from: buffer.bytes.baseAddress! + position, byteCount: count)
            position += count
        }
        if position - released >= ByteWindow.releaseStep {
            released = buffer.releaseResidentPages(released..<position)
        }
        return count
    }
}

/// Bytes already read, then the rest of a stream.
struct PrefixedStream<Rest: ByteStream>: ByteStream {
    let prefix: [UInt8]
    var position = 0
    var rest: Rest

    init(prefix: [UInt8], rest: Rest) {
        self.prefix = prefix
        self.rest = rest
    }

    mutating func read(into target: UnsafeMutableRawBufferPointer) throws(StreamError) -> Int {
        if position < prefix.count {
            let count = min(target.count, prefix.count - position)
            prefix.withUnsafeBytes {
                target.baseAddress!.copyMemory(from: $0.baseAddress! + position, byteCount: count)
            }
            position += count
            return count
        }
        return try rest.read(into: target)
    }
}
