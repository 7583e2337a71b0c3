import Foundation
package import TraplineCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Where encoded output goes.
public enum OutputDestination: Hashable, Sendable {
    /// Nowhere (decode and account only).
    case none
    /// Standard output.
    case standardOutput
    /// A file path. A regular file (or a new path) is written to a temporary beside it and
    /// renamed into place when complete, so a failed or killed run never leaves a half-written
    /// file; a device, FIFO or `/dev/stdout` is written in place, and a symbolic link is
    /// followed (`OutputTarget`).
    case file(String)
}

/// Writes bytes to an `OutputDestination`, reporting failures with the path; optionally
/// gzip-compressed.
package final class OutputSink {
    private let destination: OutputDestination
    private var gzip: GzipWriter?
    /// Size-based rotation of a regular file, its path, and the bytes in the current file.
    private let rotation: FileRotation?
    private var rotatingPath: String?
    private var bytesInFile = 0
    private var descriptor: Int32 = -1
    private var temporaryPath: String?
    private let displayPath: String
    /// The file a temporary is renamed to (a symbolic link's target, not the link).
    private var finalPath: String?
    /// Bytes written so far.
    private(set) var bytesWritten = 0

    /// Opens the destination.
    ///
    /// - Parameters:
    ///   - inPlace: a regular file is truncated and written as it goes, not through a
    ///     temporary renamed at `finish()`.
    ///   - rotation: a regular file is appended to as it goes and rotated by size (the
    ///     Collector's file exporter with `rotation`).
    package init(
        _ destination: OutputDestination, gzip: Bool = false, inPlace: Bool = false, rotation: FileRotation? = nil
    ) throws(IOFailure) {
        self.destination = destination
        self.gzip = gzip ? GzipWriter() : nil
        self.rotation = rotation
        switch destination {
        case .none:
            displayPath = "(none)"
        case .standardOutput:
            displayPath = "-"
            descriptor = STDOUT_FILENO
        case .file(let path):
            displayPath = path
            switch OutputTarget.resolve(path) {
            case .failure(let failure):
                throw failure
            case .success(.descriptor(let inherited)):
                descriptor = dup(inherited)
                guard descriptor >= 0 else { throw IOFailure(path: path, operation: "open", errorNumber: errno) }
            case .success(.inPlace(let target)):
                // A device, FIFO or socket: written as it is, never replaced by a regular file.
                descriptor = open(target, O_WRONLY | O_CLOEXEC)
                guard descriptor >= 0 else { throw IOFailure(path: path, operation: "open", errorNumber: errno) }
            case .success(.replace(let target)) where rotation != nil:
                descriptor = open(target, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
                guard descriptor >= 0 else { throw IOFailure(path: path, operation: "create", errorNumber: errno) }
                var info = stat()
                bytesInFile = fstat(descriptor, &info) == 0 ? Int(info.st_size) : 0
                rotatingPath = target
            case .success(.replace(let target)) where inPlace:
                descriptor = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                guard descriptor >= 0 else { throw IOFailure(path: path, operation: "create", errorNumber: errno) }
            case .success(.replace(let target)):
                let temporary = target + ".tmp-\(getpid())"
                descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                guard descriptor >= 0 else { throw IOFailure(path: path, operation: "create", errorNumber: errno) }
                temporaryPath = temporary
                finalPath = target
            }
        }
    }

    /// Whether nothing written reaches the destination unless `finish()` succeeds (a regular
    /// file written through a temporary); otherwise each write is delivered as it is made.
    var isAllOrNothing: Bool { temporaryPath != nil }

    deinit {
        // An unfinished file output is removed, never left half-written.
        if let temporaryPath {
            close(descriptor)
            unlink(temporaryPath)
        } else if case .file = destination, descriptor >= 0 {
            close(descriptor)
        }
    }

    /// Writes all of `bytes` (compressed first, for a gzip sink), after rotating the file
    /// when they would take it past its size (a batch never spans two files).
    func write(_ bytes: UnsafeRawBufferPointer) throws(IOFailure) {
        if let rotation, rotatingPath != nil, bytesInFile > 0, bytesInFile + bytes.count > rotation.maxMegabytes << 20 {
            try rotate(rotation)
        }
        guard let gzip else { return try writeRaw(bytes) }
        var failure: IOFailure?
        gzip.compress(bytes) { piece in
            guard failure == nil else { return }
            do throws(IOFailure) { try writeRaw(piece) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    private func writeRaw(_ bytes: UnsafeRawBufferPointer) throws(IOFailure) {
        guard descriptor >= 0, var base = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let written = Glibc.write(descriptor, base, left)
            if written < 0 {
                if errno == EINTR { continue }
                throw IOFailure(path: displayPath, operation: "write", errorNumber: errno)
            }
            left -= written
            base += written
            bytesWritten += written
            bytesInFile += written
        }
    }

    /// Renames the file to `<name>-<time><.ext>` (the time in UTC, or local time), starts a
    /// new one, and removes the rotated files beyond `maxBackups` or older than `maxDays`.
    private func rotate(_ rotation: FileRotation) throws(IOFailure) {
        guard let path = rotatingPath else { return }
        if gzip != nil {
            // Each file is a whole gzip stream.
            try endGzipStream()
            gzip = GzipWriter()
        }
        close(descriptor)
        descriptor = -1
        let backup = RotatedFiles.name(for: path, at: Date(), localTime: rotation.localTime)
        guard rename(path, backup) == 0 else { throw IOFailure(path: path, operation: "rename", errorNumber: errno) }
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw IOFailure(path: path, operation: "create", errorNumber: errno) }
        bytesInFile = 0
        RotatedFiles.prune(for: path, keeping: rotation.maxBackups, maxDays: rotation.maxDays)
    }

    /// Writes the end of the gzip stream (its last block and trailer), when compressing.
    private func endGzipStream() throws(IOFailure) {
        guard let gzip else { return }
        var failure: IOFailure?
        gzip.finish { piece in
            guard failure == nil else { return }
            do throws(IOFailure) { try writeRaw(piece) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Writes all of `bytes`.
    package func write(_ bytes: [UInt8]) throws(IOFailure) {
        var failure: IOFailure?
        bytes.withUnsafeBytes { buffer in
            do throws(IOFailure) { try write(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Flushes to stable storage and moves a file output into place.
    package func finish() throws(IOFailure) {
        try endGzipStream()
        guard let temporaryPath, let finalPath else {
            if case .file = destination, descriptor >= 0 {
                let closed = close(descriptor)
                descriptor = -1
                guard closed == 0 else { throw IOFailure(path: displayPath, operation: "close", errorNumber: errno) }
            }
            return
        }
        if fsync(descriptor) != 0 && errno != EINVAL {
            throw IOFailure(path: displayPath, operation: "fsync", errorNumber: errno)
        }
        guard close(descriptor) == 0 else {
            throw IOFailure(path: displayPath, operation: "close", errorNumber: errno)
        }
        descriptor = -1
        guard rename(temporaryPath, finalPath) == 0 else {
            let failure = IOFailure(path: displayPath, operation: "rename", errorNumber: errno)
            unlink(temporaryPath)
            self.temporaryPath = nil
            throw failure
        }
        self.temporaryPath = nil
    }
}

/// The names the file exporter's rotation gives old files, as the Collector's (lumberjack):
/// `out.jsonl` becomes `out-2026-12-06T14-20-00.000.jsonl`.
enum RotatedFiles {
    static func name(for path: String, at date: Date, localTime: Bool) -> String {
        let (stem, ext) = parts(of: path)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = localTime ? .current : TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH-mm-ss.SSS"
        var name = stem + "-" + formatter.string(from: date) + ext
        // Two rotations within a millisecond: the second waits for a name of its own.
        var bump = 1
        while access(name, F_OK) == 0 {
            name = stem + "-" + formatter.string(from: date.addingTimeInterval(Double(bump) / 1000)) + ext
            bump += 1
        }
        return name
    }

    /// Removes rotated files of `path` beyond the newest `keeping` (0: all kept) and those
    /// older than `maxDays` (0: none by age).
    static func prune(for path: String, keeping: Int, maxDays: Int) {
        let (stem, ext) = parts(of: path)
        let directory = (stem as NSString).deletingLastPathComponent
        let prefix = (stem as NSString).lastPathComponent + "-"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? [])
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(ext) && $0.count == prefix.count + 23 + ext.count }
            .sorted(by: >)  // the timestamp sorts as text: newest first
        let cutoff = Date().addingTimeInterval(-Double(maxDays) * 86_400)
        for (index, name) in names.enumerated() {
            let file = (directory.isEmpty ? "" : directory + "/") + name
            let modified =
                (try? FileManager.default.attributesOfItem(atPath: file)[.modificationDate] as? Date) ?? Date()
            if (keeping > 0 && index >= keeping) || (maxDays > 0 && modified < cutoff) { unlink(file) }
        }
    }

    private static func parts(of path: String) -> (stem: String, ext: String) {
        let name = (path as NSString).lastPathComponent
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return (path, "") }
        let ext = String(name[dot...])
        return (String(path.dropLast(ext.count)), ext)
    }
}
