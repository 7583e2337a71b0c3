import TraplineCore

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
    /// A file, written to a temporary beside it and renamed into place when complete, so a
    /// failed or killed run never leaves a half-written file.
    case file(String)
}

/// Writes bytes to an `OutputDestination`, reporting failures with the path; optionally
/// gzip-compressed.
final class OutputSink {
    private let destination: OutputDestination
    private let gzip: GzipWriter?
    private var descriptor: Int32 = -1
    private var temporaryPath: String?
    private let displayPath: String
    /// Bytes written so far.
    private(set) var bytesWritten = 0

    init(_ destination: OutputDestination, gzip: Bool = false) throws(IOFailure) {
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
            var info = stat()
            if stat(path, &info) == 0 && info.st_mode & S_IFMT != S_IFREG {
                // A device or FIFO (/dev/null, a named pipe): write to it directly.
                descriptor = open(path, O_WRONLY | O_CLOEXEC)
                guard descriptor >= 0 else { throw IOFailure(path: path, operation: "open", errorNumber: errno) }
                return
            }
            let temporary = path + ".tmp-\(getpid())"
            descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw IOFailure(path: path, operation: "create", errorNumber: errno) }
            temporaryPath = temporary
        }
    }

    deinit {
        // An unfinished file output is removed, never left half-written.
        if let temporaryPath {
            close(descriptor)
            unlink(temporaryPath)
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
    func write(_ bytes: [UInt8]) throws(IOFailure) {
        var failure: IOFailure?
        bytes.withUnsafeBytes { buffer in
            do throws(IOFailure) { try write(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Flushes to stable storage and moves a file output into place.
    func finish() throws(IOFailure) {
        if let gzip {
            var failure: IOFailure?
            gzip.finish { piece in
                guard failure == nil else { return }
                do throws(IOFailure) { try writeRaw(piece) } catch { failure = error }
            }
            if let failure { throw failure }
        }
        guard let temporaryPath, case .file(let path) = destination else {
            if case .file = destination, descriptor >= 0 {
                close(descriptor)
                descriptor = -1
            }
            return
        }
        if fsync(descriptor) != 0 && errno != EINVAL {
            throw IOFailure(path: path, operation: "fsync", errorNumber: errno)
        }
        guard close(descriptor) == 0 else { throw IOFailure(path: path, operation: "close", errorNumber: errno) }
        descriptor = -1
        guard rename(temporaryPath, path) == 0 else {
            let failure = IOFailure(path: path, operation: "rename", errorNumber: errno)
            unlink(temporaryPath)
            self.temporaryPath = nil
            throw failure
        }
        self.temporaryPath = nil
    }
}
