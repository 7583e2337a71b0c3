import Synchronization

/// Read buffers handed back when the last batch pointing into them goes, for the next read: a
/// followed file is read window by window into buffers of a few MiB, and a fresh allocation
/// each time costs the kernel's page faults and zeroing on every window.
///
/// Keeps at most `capacity` buffers; more are freed.
package final class InputBufferPool: Sendable {
    private let kept: Mutex<[Kept]>
    private let capacity: Int

    /// A kept buffer. `@unchecked Sendable`: only the pool, under its lock, holds it.
    private struct Kept: @unchecked Sendable {
        var storage: UnsafeMutableRawBufferPointer
    }

    /// An empty pool keeping up to `capacity` buffers. Allocates nothing until used.
    package init(capacity: Int) {
        self.capacity = capacity
        kept = Mutex([])
    }

    /// A buffer of at least `byteCount` bytes: a kept one when one is large enough, else a new
    /// one (allocated).
    package func take(byteCount: Int) -> UnsafeMutableRawBufferPointer {
        let reused = kept.withLock { kept -> Kept? in
            guard let index = kept.firstIndex(where: { $0.storage.count >= byteCount }) else { return nil }
            return kept.remove(at: index)
        }
        return reused?.storage ?? .allocate(byteCount: max(byteCount, 1), alignment: 16)
    }

    /// Takes `buffer` back (from `take`), or frees it when the pool is full. Allocates nothing
    /// beyond the pool's list.
    package func giveBack(_ buffer: UnsafeMutableRawBufferPointer) {
        let returned = Kept(storage: buffer)
        let keptIt = kept.withLock { kept -> Bool in
            guard kept.count < capacity else { return false }
            kept.append(returned)
            return true
        }
        if !keptIt { buffer.deallocate() }
    }

    deinit {
        kept.withLock { kept in for buffer in kept { buffer.storage.deallocate() } }
    }
}
