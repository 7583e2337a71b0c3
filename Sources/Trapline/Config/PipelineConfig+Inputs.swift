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
                case .file(let file)?:
                    for pattern in file.include {
                        let matches = Self.glob(pattern).filter { path in
                            !file.exclude.contains {
                                fnmatch($0, path, 0) == 0 || fnmatch($0, (path as NSString).lastPathComponent, 0) == 0
                            }
                        }
                        if matches.isEmpty { unmatched.append(pattern) }
                        for path in matches where !inputs.contains(path) { inputs.append(path) }
                    }
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

    /// Paths matching a shell glob, sorted.
    static func glob(_ pattern: String) -> [String] {
        var matches = glob_t()
        defer { globfree(&matches) }
        guard Glibc.glob(pattern, 0, nil, &matches) == 0 else { return [] }
        return (0..<Int(matches.gl_pathc)).compactMap { index in
            matches.gl_pathv[index].map { String(cString: $0) }
        }.sorted()
    }
}
