import CZlib

/// Compresses bytes as one gzip member, written in pieces (for gzip-compressed outputs).
///
/// A class: it owns zlib's stream state, which holds pointers into itself.
package final class GzipWriter {
    private let stream: UnsafeMutablePointer<z_stream>
    private var output = [UInt8](repeating: 0, count: 256 * 1024)
    private var finished = false

    /// Starts a gzip member at the given zlib level (1 fastest … 9 smallest; default 6).
    package init(level: Int32 = 6) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 15 + 16: a gzip header and trailer around the deflate data.
        deflateInit2_(
            stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    /// Compresses `bytes`, handing compressed pieces to `emit` as they fill.
    package func compress(_ bytes: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = UInt32(bytes.count)
        try run(Z_NO_FLUSH, emit: emit)
    }

    /// Ends the member (trailer with CRC and size) and hands out the rest.
    package func finish(emit: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        guard !finished else { return }
        finished = true
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        try run(Z_FINISH, emit: emit)
    }

    private func run(_ flush: Int32, emit: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        let capacity = output.count
        while true {
            let produced: Int = output.withUnsafeMutableBytes { buffer in
                stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = UInt32(capacity)
                deflate(stream, flush)
                return capacity - Int(stream.pointee.avail_out)
            }
            if produced > 0 {
                try output.withUnsafeBytes { try emit(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
            }
            // More to do while zlib fills whole buffers, or input remains, or the trailer is pending.
            if produced < capacity && stream.pointee.avail_in == 0 { break }
        }
    }
}
