/// The series a baseline keeps, by key (service and span name), at most `maxSeries` of them: a
/// new key past the limit takes the place of a series with nothing left in the window, or is not
/// kept.
///
/// Keys are bytes (`key(service:name:)`): a lookup with a reused key buffer allocates nothing; a
/// new series copies its key once.
struct SeriesIndex {
    private var index: [SeriesKey: Int] = [:]
    /// Each series' key.
    private(set) var keys: [SeriesKey] = []
    /// Each series' newest slot, to find series the window has left.
    private var newestSlots: [Int64] = []
    private var evictionCursor = 0
    let maxSeries: Int

    init(maxSeries: Int) { self.maxSeries = max(1, maxSeries) }

    var count: Int { keys.count }

    /// The newest slot a span of the series reached: its window ends there (each series keeps
    /// its own, so a service whose clock runs far ahead moves no other service's window).
    func newestSlot(of series: Int) -> Int64 { newestSlots[series] }

    /// The series of `key`, made when new (`isNew`: the caller resets its storage, which may be
    /// an evicted series'); nil when the index is full of series whose newest slot is at or
    /// after `oldestLiveSlot`.
    mutating func series(for key: [UInt8], slot: Int64, oldestLiveSlot: Int64) -> (index: Int, isNew: Bool)? {
        let key = SeriesKey(bytes: key)
        if let existing = index[key] {
            if slot > newestSlots[existing] { newestSlots[existing] = slot }
            return (existing, false)
        }
        if keys.count < maxSeries {
            index[key] = keys.count
            keys.append(key)
            newestSlots.append(slot)
            return (keys.count - 1, true)
        }
        // Full: reuse a series whose newest slot has left the window (a round robin from where the
        // last search stopped, so a full index costs one pass per new key at most).
        for _ in 0..<keys.count {
            let candidate = evictionCursor
            evictionCursor = (evictionCursor + 1) % keys.count
            guard newestSlots[candidate] < oldestLiveSlot else { continue }
            index[keys[candidate]] = nil
            keys[candidate] = key
            index[key] = candidate
            newestSlots[candidate] = slot
            return (candidate, true)
        }
        return nil
    }

    /// The key of a service name and span name: the service's length in 4 bytes, the service,
    /// then the name. Reuses `buffer`; allocates nothing once it has grown.
    static func key(service: UnsafeRawBufferPointer?, name: UnsafeRawBufferPointer, into buffer: inout [UInt8]) {
        buffer.removeAll(keepingCapacity: true)
        let length = service?.count ?? 0
        for shift in stride(from: 0, to: 32, by: 8) { buffer.append(UInt8(truncatingIfNeeded: length >> shift)) }
        // Typed buffers: appending them copies the bytes at once, a raw buffer went byte by byte.
        if let service { buffer.append(contentsOf: service.assumingMemoryBound(to: UInt8.self)) }
        buffer.append(contentsOf: name.assumingMemoryBound(to: UInt8.self))
    }

    /// The service and span name a key was made of, for messages.
    static func describe(_ key: [UInt8]) -> (service: String, name: String) {
        guard key.count >= 4 else { return ("", "") }
        let length = Int(key[0]) | Int(key[1]) << 8 | Int(key[2]) << 16 | Int(key[3]) << 24
        let serviceEnd = min(key.count, 4 + length)
        return (
            String(decoding: key[4..<serviceEnd], as: UTF8.self), String(decoding: key[serviceEnd...], as: UTF8.self)
        )
    }
}

/// A series key as a dictionary key: hashed as one run of bytes (an array of bytes hashes byte
/// by byte, which cost more than the rest of a span's baseline work).
struct SeriesKey: Hashable {
    var bytes: [UInt8]

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
