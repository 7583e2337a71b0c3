import CZstd
import TraplineCore

/// zstd for HTTP bodies (`Content-Encoding: zstd`), on the system libzstd: inflating refuses to
/// grow past a limit while it inflates, as gzip does, so a zstd bomb is never held whole.
package enum Zstd {
    /// Decompresses every frame of `bytes`.
    ///
    /// - Throws: `.decompressedTooLarge` past `limit`; `.corruptZstd` for bytes that
    ///   are not zstd or end inside a frame.
    static func decompress(_ bytes: UnsafeRawBufferPointer, limit: Int) throws(DecodeError) -> [UInt8] {
        guard let stream = ZSTD_createDStream() else { throw DecodeError(.corruptZstd, offset: 0) }
        defer { ZSTD_freeDStream(stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        var frameOpen = false
        while input.pos < input.size || frameOpen {
            let before = input.pos
            let (remaining, written) = chunk.withUnsafeMutableBytes { chunkBytes in
                var out = ZSTD_outBuffer(dst: chunkBytes.baseAddress, size: chunkBytes.count, pos: 0)
                let remaining = ZSTD_decompressStream(stream, &out, &input)
                return (remaining, out.pos)
            }
            if ZSTD_isError(remaining) != 0 { throw DecodeError(.corruptZstd, offset: before) }
            guard output.count + written <= limit else {
                throw DecodeError(.decompressedTooLarge, offset: before, limit: limit)
            }
            output.append(contentsOf: chunk[0..<written])
            frameOpen = remaining != 0
            // No progress with input left and nothing written: the input ends inside a frame.
            if input.pos == before && written == 0 {
                throw DecodeError(.corruptZstd, offset: input.pos)
            }
        }
        return output
    }

    /// Compresses `bytes` as one frame (level 3, zstd's default).
    package static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(bytes.count))
        let size = output.withUnsafeMutableBytes { out in
            bytes.withUnsafeBytes { ZSTD_compress(out.baseAddress, out.count, $0.baseAddress, $0.count, 3) }
        }
        output.removeSubrange(ZSTD_isError(size) != 0 ? 0... : size...)
        return output
    }
}
