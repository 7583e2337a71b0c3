import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Waiting for what another process writes into a directory: each write, close or rename there
/// wakes the wait (inotify), so a test neither sleeps nor polls on a timer.
public enum FileChanges {
    /// Waits until `condition` holds, checking it at the start and after each change in
    /// `directory`, for at most `seconds`.
    ///
    /// - Returns: whether the condition held in time.
    public static func wait(in directory: String, seconds: Double, until condition: () -> Bool) -> Bool {
        if condition() { return true }
        let watcher = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard watcher >= 0 else { return condition() }
        defer { close(watcher) }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MODIFY | IN_CREATE)
        guard inotify_add_watch(watcher, directory, mask) >= 0 else { return condition() }
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        // Checked again after the watch is in place: a change just before it is not missed.
        while !condition() {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return false }
            var descriptor = pollfd(fd: watcher, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32(min(left * 1000, Double(Int32.max)))) > 0 else { return condition() }
            _ = buffer.withUnsafeMutableBytes { read(watcher, $0.baseAddress, $0.count) }
        }
        return true
    }

    /// Waits until `condition` holds where nothing signals a change (another process's HTTP
    /// answers): asks again after 10 ms, then after twice as long each time, up to 0.5 s.
    public static func eventually(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var pause = 0.01
        while !condition() {
            guard Date() < deadline else { return false }
            Thread.sleep(forTimeInterval: min(pause, max(0, deadline.timeIntervalSinceNow)))
            pause = min(pause * 2, 0.5)
        }
        return true
    }
}
