#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The kernel's word (inotify) that something changed in the directories of followed files:
/// lets a follower read new lines as soon as they are written instead of at its next
/// `poll_interval`, which stays the upper bound (and the only clock where inotify is missing or
/// does not see the writes, as on network file systems).
///
/// Watches directories, not files: a directory reports writes to the files in it as well as
/// names created, renamed and removed, and a file renamed away keeps being read by its open
/// descriptor anyway. Not thread-safe: owned by one follower.
final class DirectoryWatch {
    /// The inotify descriptor (non-blocking), for `poll` beside the stop pipe.
    let descriptor: Int32
    /// The watch descriptor of each directory watched (names that are one directory, by a
    /// symbolic link, share one), so a removed directory can be watched again.
    private var watched: [String: Int32] = [:]
    /// Where events are read: room for many (a header and a name of up to NAME_MAX + 1 each).
    private let events = UnsafeMutableRawPointer.allocate(
        byteCount: eventsCapacity, alignment: MemoryLayout<inotify_event>.alignment)
    private static let eventsCapacity = 16 << 10

    /// What a directory is watched for: files written (the lines to read), names that came or
    /// went (a rescan of the globs), the directory itself gone.
    private static let watchedEvents = UInt32(
        IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)
    /// Events that change which names the globs match.
    private static let nameEvents = UInt32(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_Q_OVERFLOW)

    /// A watch, or nil where the kernel has none to give (no inotify, its instance limit reached).
    init?() {
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else {
            events.deallocate()
            return nil
        }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
        events.deallocate()
    }

    /// Watches `directory` unless it is already watched; one that does not exist (yet), or
    /// that the watch limit refuses, is left to the poll interval.
    func watch(directory: String) {
        guard watched[directory] == nil else { return }
        let watch = inotify_add_watch(descriptor, directory, Self.watchedEvents | UInt32(IN_ONLYDIR))
        if watch >= 0 { watched[directory] = watch }
    }

    /// Reads every pending event: whether names changed since the last call (a glob may match
    /// another set of files). Writes alone only wake the waiting follower, which reads on.
    func drain() -> Bool {
        var namesChanged = false
        while true {
            let got = read(descriptor, events, Self.eventsCapacity)
            guard got > 0 else { break }
            var position = 0
            while position + MemoryLayout<inotify_event>.size <= got {
                let event = events.load(fromByteOffset: position, as: inotify_event.self)
                if event.mask & Self.nameEvents != 0 { namesChanged = true }
                // The directory itself went (removed, or its file system unmounted): watched
                // again when a scan finds it back.
                if event.mask & UInt32(IN_IGNORED) != 0 {
                    watched = watched.filter { $0.value != event.wd }
                    namesChanged = true
                }
                position += MemoryLayout<inotify_event>.size + Int(event.len)
            }
        }
        return namesChanged
    }

    /// The directories where files matching `pattern` are written and created: its directory
    /// up to the first component with a wildcard, and every directory the components after it
    /// match (so `/var/log/pods/*/*/*.log` watches the pods' directory, each pod's and each
    /// container's, and a pod created later is seen).
    static func directories(for pattern: String) -> [String] {
        let components = pattern.split(separator: "/", omittingEmptySubsequences: false).dropLast()
        var fixed: [Substring] = []
        var index = components.startIndex
        while index < components.endIndex, !components[index].contains(where: { "*?[".contains($0) }) {
            fixed.append(components[index])
            index += 1
        }
        let root = fixed.joined(separator: "/")
        // Not made yet: its nearest ancestor that is, which sees it made.
        var directories = [nearestExisting(root.isEmpty ? (pattern.hasPrefix("/") ? "/" : ".") : root)]
        var level = root
        while index < components.endIndex {
            // A relative pattern with a wildcard in its first component starts at no directory.
            level = fixed.isEmpty && level.isEmpty ? String(components[index]) : level + "/" + components[index]
            index += 1
            directories += FileReceiverConfig.glob(level).filter(isDirectory)
        }
        return directories
    }

    /// `path`, or its nearest ancestor that is a directory.
    private static func nearestExisting(_ path: String) -> String {
        var path = path
        while !isDirectory(path) {
            guard let slash = path.lastIndex(of: "/") else { return "." }
            if slash == path.startIndex { return "/" }
            path = String(path[..<slash])
        }
        return path
    }

    private static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }
}
