import TraplineCore

/// The Collector's `file_storage` extension: a directory where components keep what must
/// survive a restart (a followed file receiver's checkpoints).
@_spi(Plumbing) public struct FileStorageConfig: Hashable, Sendable {
    /// The directory (the Collector's default on Linux).
    public var directory = "/var/lib/otelcol/file_storage"
    /// Whether a missing directory is made at startup (else a missing one is an error).
    public var createDirectory = false
    /// Whether every checkpoint is flushed to the disk (`fsync`) before it counts: survives a
    /// power loss, not only a killed process, at the cost of a disk flush per batch.
    public var fsync = false

    /// Makes the defaults. Allocates nothing.
    public init() {}
}

extension FileStorageConfig: ConfigComponent {
    static let kind = ComponentKind.extensionComponent
    static let type = "file_storage"
    static let summary = "a directory where followed file receivers keep their checkpoints (storage: file_storage)"

    static func decodeComponent(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder)
        -> DecodedComponent?
    {
        // `timeout` and `compaction` tune the Collector's bbolt database; Trapline keeps one small
        // file per component, so they are accepted and have nothing to do.
        guard
            let settings = decoder.settings(
                of: component, known: ["directory", "create_directory", "fsync", "timeout", "compaction"])
        else { return nil }
        var storage = FileStorageConfig()
        for setting in settings {
            switch setting.key {
            case "directory":
                if let directory = decoder.string(setting.node, at: setting.location) {
                    if directory.isEmpty {
                        decoder.diagnostics.error("'directory' must not be empty", at: setting.location)
                    } else {
                        storage.directory = directory
                    }
                }
            case "create_directory":
                storage.createDirectory = decoder.bool(setting.node, at: setting.location) ?? false
            case "fsync": storage.fsync = decoder.bool(setting.node, at: setting.location) ?? false
            default: break
            }
        }
        return .fileStorage(storage)
    }
}
