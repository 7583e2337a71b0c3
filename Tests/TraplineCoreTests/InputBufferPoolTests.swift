import Testing

@testable import TraplineCore

/// Read buffers come back to their pool when the last batch pointing into them goes.
@Suite struct InputBufferPoolTests {
    @Test func aBufferComesBackWhenItsInputBufferGoes() {
        let pool = InputBufferPool(capacity: 2)
        let storage = pool.take(byteCount: 1 << 20)
        var input: InputBuffer? = InputBuffer(pooled: storage, count: 100, pool: pool)
        #expect(input?.bytes.count == 100)
        #expect(input?.bytes.baseAddress == UnsafeRawPointer(storage.baseAddress))
        // Still in use: a new take is another buffer.
        let other = pool.take(byteCount: 1 << 20)
        #expect(other.baseAddress != storage.baseAddress)
        pool.giveBack(other)
        input = nil
        // Both are back; a take no larger than them reuses one, a larger one allocates.
        let again = pool.take(byteCount: 4096)
        #expect(again.baseAddress == other.baseAddress || again.baseAddress == storage.baseAddress)
        let larger = pool.take(byteCount: 2 << 20)
        #expect(larger.count == 2 << 20)
        #expect(larger.baseAddress != storage.baseAddress && larger.baseAddress != other.baseAddress)
        pool.giveBack(again)
        pool.giveBack(larger)
    }

    @Test func aFullPoolFreesWhatComesBack() {
        let pool = InputBufferPool(capacity: 1)
        let first = pool.take(byteCount: 64)
        let second = pool.take(byteCount: 64)
        pool.giveBack(first)
        pool.giveBack(second)  // freed: the pool keeps one
        let reused = pool.take(byteCount: 64)
        #expect(reused.baseAddress == first.baseAddress)
        let fresh = pool.take(byteCount: 64)
        #expect(fresh.baseAddress != first.baseAddress)
        pool.giveBack(reused)
        pool.giveBack(fresh)
    }
}
