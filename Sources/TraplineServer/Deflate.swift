import CZlib
import TraplineCore

/// zlib-wrapped deflate (RFC 1950), what gRPC's `deflate` message encoding is: inflating
/// refuses to grow past a limit while it inflates, as gzip and zstd do.
enum Deflate {
    /// Inflates one zlib stream that must fill `bytes`.
    ///
    /// - Throws: `.decompressedTooLarge` past `limit`; `.corruptGzip` (zlib's data errors are
    ///   gzip's) for bytes that are not zlib, fail its checksum, end inside the stream or go on
    ///   after it.
    static func inflate(_ bytes: UnsafeRawBufferPointer, limit: Int) throws(DecodeError) -> [UInt8] {
        var stream = z_stream()
        // 15: a zlib header and Adler-32 trailer around the deflate data.
        guard inflateInit2_(&stream, 15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DecodeError(.corruptGzip, offset: 0)
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.avail_in = UInt32(bytes.count)
        while true {
            let before = bytes.count - Int(stream.avail_in)
            let (status, written) = chunk.withUnsafeMutableBytes { out in
                stream.next_out = out.baseAddress?.assumingMemoryBound(to: UInt8.self)
                stream.avail_out = UInt32(out.count)
                let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                return (status, out.count - Int(stream.avail_out))
            }
            guard status == Z_OK || status == Z_STREAM_END || (status == Z_BUF_ERROR && written > 0) else {
                throw DecodeError(.corruptGzip, offset: before)
            }
            guard output.count + written <= limit else {
                throw DecodeError(.decompressedTooLarge, offset: before, limit: limit)
            }
            output.append(contentsOf: chunk[0..<written])
            if status == Z_STREAM_END {
                // Bytes after the stream are not part of the message.
                guard stream.avail_in == 0 else {
                    throw DecodeError(.gzipTrailingGarbage, offset: bytes.count - Int(stream.avail_in))
                }
                return output
            }
            // No progress: the input ends inside the stream.
            if written == 0 && bytes.count - Int(stream.avail_in) == before {
                throw DecodeError(.gzipTruncated, offset: before)
            }
        }
    }
}
