package import TraplineCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// How an output path is written, decided from what is at the path now.
///
/// Only a regular file (or a path where nothing is yet) is written through a temporary and a
/// rename, so a reader never sees half of it; a rename would turn anything else into a regular
/// file: a device (`/dev/null`, `/dev/full`), a FIFO a reader waits on, or the descriptor
/// behind `/dev/stdout`. Those are written in place. A symbolic link is followed, so the file it
/// names is replaced and the link stays.
package enum OutputTarget: Equatable, Sendable {
    /// Write to the open descriptor `descriptor` (a duplicate of it): `/dev/stdout`,
    /// `/dev/stderr`, `/dev/fd/N` and `/proc/self/fd/N` share the process's descriptor and
    /// its offset (reopening the path would start a redirected file again from byte 0).
    case descriptor(Int32)
    /// Open `path` for writing as it is (a device, a FIFO, a socket …), without truncating.
    case inPlace(String)
    /// Write a temporary beside `path` and rename it over `path` when complete.
    case replace(String)

    /// Symbolic links followed at most, as the kernel's own limit (`ELOOP` past it).
    static let maxLinks = 40

    /// What writing to `path` means.
    ///
    /// - Returns: the target, or the `errno` that stops even looking (a loop of links).
    package static func resolve(_ path: String) -> Result<OutputTarget, IOFailure> {
        if let descriptor = inheritedDescriptor(path) { return .success(.descriptor(descriptor)) }
        var current = path
        for _ in 0...maxLinks {
            var info = stat()
            guard lstat(current, &info) == 0 else {
                // Nothing there yet (or not reachable): a new file, whose creation reports the rest.
                return .success(.replace(current))
            }
            switch info.st_mode & S_IFMT {
            case S_IFLNK:
                guard let target = readLink(current) else {
                    return .failure(IOFailure(path: path, operation: "readlink", errorNumber: errno))
                }
                current = target.hasPrefix("/") ? target : directory(of: current) + "/" + target
            case S_IFREG:
                return .success(.replace(current))
            default:
                return .success(.inPlace(current))
            }
        }
        return .failure(IOFailure(path: path, operation: "open", errorNumber: ELOOP))
    }

    /// The descriptor a path names without naming a file: `/dev/stdout` and its kin.
    static func inheritedDescriptor(_ path: String) -> Int32? {
        switch path {
        case "/dev/stdout": return STDOUT_FILENO
        case "/dev/stderr": return STDERR_FILENO
        default: break
        }
        for prefix in ["/dev/fd/", "/proc/self/fd/"] where path.hasPrefix(prefix) {
            if let number = Int32(path.dropFirst(prefix.count)), number >= 0 { return number }
        }
        return nil
    }

    private static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "" : String(path[..<slash])
    }
}
