import Foundation
import Testing
@_spi(Plumbing) import TraplineCore
@_spi(Plumbing) import TraplineTestSupport

/// The decompression cap of `GzipStream` holds whatever the cap's alignment with the reads.
@Suite(.tags(.slow)) struct GzipStreamTests {
    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let run = try ProcessRunner.run(URL(fileURLWithPath: "/bin/gzip"), ["-c", "-9"], input: Data(bytes))
        return [UInt8](run.standardOutput)
    }

    /// Reads everything; the error that ended it, if any.
    static func inflate(_ compressed: [UInt8], cap: Int, chunk: Int) -> (count: Int, error: DecodeError?) {
        var stream = GzipStream(ChunkedStream(compressed, chunkSizes: [4096]), maxDecompressedBytes: cap)
        var buffer = [UInt8](repeating: 0, count: chunk)
        var total = 0
        while true {
            var count = 0
            var failure: StreamError?
            buffer.withUnsafeMutableBytes { raw in
                do throws(StreamError) { count = try stream.read(into: raw) } catch { failure = error }
            }
            if let failure {
                if case .input(let error) = failure.failure { return (total, error) }
                return (total, nil)
            }
            if count == 0 { return (total, nil) }
            total += count
        }
    }

    /// Regression: when the cap was a multiple of the read size, the read that crossed it
    /// returned 0 bytes, which reads as the end: a gzip bomb came out silently truncated at the cap.
    @Test(arguments: [1 << 20, (1 << 20) + 1, (1 << 20) - 1, 12_345])
    func aBombPastTheCapIsAnErrorNotAnEnd(cap: Int) throws {
        let bomb = try Self.gzip([UInt8](repeating: 0, count: 4 << 20))
        let (count, error) = Self.inflate(bomb, cap: cap, chunk: 64 << 10)
        #expect(error?.reason == .decompressedTooLarge)
        #expect(count == cap)
    }

    @Test func inputExactlyAtTheCapIsWhole() throws {
        let data = [UInt8](repeating: 7, count: 1 << 20)
        let (count, error) = Self.inflate(try Self.gzip(data), cap: 1 << 20, chunk: 64 << 10)
        #expect(error == nil)
        #expect(count == 1 << 20)
    }
}
