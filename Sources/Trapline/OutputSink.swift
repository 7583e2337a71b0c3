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
    private let gzip: GzipWriter?
    private var descriptor: Int32 = -1
    private var temporaryPath: String?
    private let displayPath: String
    /// The file a temporary is renamed to (a symbolic link's target, not the link).
    private var finalPath: String?
    /// Bytes written so far.
    private(set) var bytesWritten = 0

    /// Opens the destination.
    ///
    /// - Parameter inPlace: a regular file is truncated and written as it goes, not through a
    ///   temporary renamed at `finish()`.
    package init(_ destination: OutputDestination, gzip: Bool = false, inPlace: Bool = false) throws(IOFailure) {
        self.destination = destination
        self.gzip = gzip ? GzipWriter() : nil
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

    /// Writes all of `bytes` (compressed first, for a gzip sink).
    func write(_ bytes: UnsafeRawBufferPointer) throws(IOFailure) {
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
        }
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
        if let gzip {
            var failure: IOFailure?
            gzip.finish { piece in
                guard failure == nil else { return }
                do throws(IOFailure) { try writeRaw(piece) } catch { failure = error }
            }
            if let failure { throw failure }
        }
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
