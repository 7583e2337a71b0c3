import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// One followed receiver's checkpoint file in a `file_storage` directory: a small JSON
/// document of each file's fingerprint and position, replaced whole (written beside, then
/// renamed) so a kill at any moment leaves the previous or the new one, never half of one.
struct CheckpointStore {
    /// The file's path.
    let path: String
    /// Whether each save is flushed to the disk before the rename.
    let fsync: Bool

    private struct Document: Codable {
        var version = 1
        var files: [Entry]
    }

    private struct Entry: Codable {
        var path: String
        var fingerprint: Data
        var offset: Int
        var line: Int
        var continuesLine: Bool?
    }

    /// The checkpoints saved last; none when there is no file yet.
    func load() -> Result<[Checkpoint], CheckpointProblem> {
        guard let data = FileManager.default.contents(atPath: path) else {
            if access(path, F_OK) != 0 && errno == ENOENT { return .success([]) }
            return .failure(
                CheckpointProblem(text: "\(path): cannot read the checkpoints: \(String(cString: strerror(errno)))"))
        }
        guard let document = try? JSONDecoder().decode(Document.self, from: data) else {
            return .failure(
                CheckpointProblem(text: "\(path): the checkpoints are not readable, so files start by start_at"))
        }
        return .success(
            document.files.map {
                Checkpoint(
                    path: $0.path, fingerprint: [UInt8]($0.fingerprint), offset: $0.offset, line: $0.line,
                    continuesLine: $0.continuesLine ?? false)
            })
    }

    /// Replaces the checkpoints; a problem's description when that failed.
    func save(_ checkpoints: [Checkpoint]) -> String? {
        let document = Document(
            files: checkpoints.map {
                Entry(
                    path: $0.path, fingerprint: Data($0.fingerprint), offset: $0.offset, line: $0.line,
                    continuesLine: $0.continuesLine)
            })
        guard let data = try? JSONEncoder().encode(document) else { return "\(path): cannot encode the checkpoints" }
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return "\(temporary): \(String(cString: strerror(errno)))" }
        var written = 0
        let failure: Int32? = data.withUnsafeBytes { bytes in
            while written < bytes.count {
                let result = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
                if result < 0 && errno == EINTR { continue }
                guard result > 0 else { return errno }
                written += result
            }
            return nil
        }
        if let failure {
            close(descriptor)
            return "\(temporary): \(String(cString: strerror(failure)))"
        }
        if fsync && Glibc.fsync(descriptor) != 0 {
            close(descriptor)
            return "\(temporary): fsync: \(String(cString: strerror(errno)))"
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else { return "\(path): rename: \(String(cString: strerror(errno)))" }
        return nil
    }
}

/// A checkpoint file that could not be read.
struct CheckpointProblem: Error {
    var text: String
}
