import Foundation
public import TraplineCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

extension PipelineConfig {
    /// The inputs of every receiver some pipeline lists: `stdin` as `-`, file receivers as the
    /// files their `include` globs match (sorted, without those `exclude` matches), each once.
    ///
    /// - Returns: the inputs, and the globs that matched no file.
    public func receiverInputs() -> (inputs: [String], unmatched: [String]) {
        var inputs: [String] = []
        var unmatched: [String] = []
        var seen: Set<ComponentID> = []
        for pipeline in pipelines {
            for id in pipeline.receivers where seen.insert(id).inserted {
                switch receiver(id) {
                case .stdin?:
                    if !inputs.contains("-") { inputs.append("-") }
                case .file(let file)? where file.follow == nil:
                    let matches = file.matchingPaths()
                    unmatched += matches.unmatched
                    for path in matches.paths where !inputs.contains(path) { inputs.append(path) }
                case .file?:
                    continue  // followed: see `followedReceivers`
                case .otlp?, nil:
                    continue
                }
            }
        }
        return (inputs, unmatched)
    }

    /// The `otlp` receivers some pipeline lists, with the signals of those pipelines.
    public var otlpReceivers: [(id: String, config: OTLPReceiverConfig, signals: Set<Signal>)] {
        var found: [(id: String, config: OTLPReceiverConfig, signals: Set<Signal>)] = []
        for pipeline in pipelines {
            for id in pipeline.receivers {
                guard case .otlp(let config)? = receiver(id) else { continue }
                if let index = found.firstIndex(where: { $0.id == id.description }) {
                    found[index].signals.insert(pipeline.signal)
                } else {
                    found.append((id.description, config, [pipeline.signal]))
                }
            }
        }
        return found
    }

    /// The file receivers some pipeline lists that follow their files, each once.
    public var followedReceivers: [(id: ComponentID, config: FileReceiverConfig)] {
        var found: [(id: ComponentID, config: FileReceiverConfig)] = []
        for id in pipelines.flatMap(\.receivers) where !found.contains(where: { $0.id == id }) {
            if case .file(let file)? = receiver(id), file.follow != nil { found.append((id, file)) }
        }
        return found
    }

    /// The `file_storage` extension with `id`.
    public func storage(_ id: ComponentID) -> FileStorageConfig? {
        storageExtensions.first { $0.id == id }?.config
    }

    /// The `memory_limiter` processors some pipeline lists, with the signals of those pipelines.
    public var memoryLimiters: [(id: String, config: MemoryLimiterConfig, signals: Set<Signal>)] {
        var found: [(id: String, config: MemoryLimiterConfig, signals: Set<Signal>)] = []
        for pipeline in pipelines {
            for id in pipeline.processors {
                guard let limiter = processor(id)?.settings(as: MemoryLimiterConfig.self) else { continue }
                if let index = found.firstIndex(where: { $0.id == id.description }) {
                    found[index].signals.insert(pipeline.signal)
                } else {
                    found.append((id.description, limiter, [pipeline.signal]))
                }
            }
        }
        return found
    }
}
