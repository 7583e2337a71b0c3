import Foundation
import TraplineCore
import TraplineRules
public import TraplineStages
import Yams

/// Loads a Collector-shaped pipeline file: YAML → positioned nodes (with `${env:…}`
/// substituted) → typed `PipelineConfig`, collecting every problem with its line and column
/// instead of stopping at the first.
public enum ConfigLoader {
    /// What loading found: the configuration (meaningful only without diagnostics) and every
    /// problem.
    public struct Result: Sendable {
        /// The typed configuration.
        @_spi(Plumbing) public var config: PipelineConfig
        /// Every problem, in file order.
        public var diagnostics: ConfigDiagnostics
        /// The pipelines' processors, compiled (meaningful only without diagnostics).
        public var stages = StageChain()
        /// `k8sattributes` stages whose pods come from the Kubernetes API: the caller runs a
        /// watch that fills each source (the stages start with an empty table).
        @_spi(Plumbing) public var kubernetesSources: [KubernetesSourceRequest] = []
    }

    /// Loads the file at `path`.
    ///
    /// - Parameters:
    ///   - path: the pipeline file.
    ///   - environment: variables for `${env:…}`; nil uses the process environment.
    /// - Returns: the configuration, every problem found, and the compiled stages. Reads the file
    ///   and allocates the configuration; never throws (problems are diagnostics).
    public static func load(path: String, environment: [String: String]? = nil) -> Result {
        let environment = environment ?? ProcessInfo.processInfo.environment
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            var diagnostics = ConfigDiagnostics()
            diagnostics.error(
                "cannot read the pipeline file", at: ConfigLocation(path: "", file: path, line: 1, column: 1),
                hint: "check the path and that it is UTF-8 text")
            return Result(config: PipelineConfig(), diagnostics: diagnostics)
        }
        return load(yaml: text, file: path, environment: environment)
    }

    /// Loads YAML text; `file` names it in diagnostics. `checkingStartup: false` leaves out the
    /// checks of how receivers and exporters combine, for an embedder that runs neither.
    /// Allocates the configuration and the compiled stages.
    public static func load(
        yaml: String, file: String, environment: [String: String] = [:], checkingStartup: Bool = true
    ) -> Result {
        var decoder = ConfigDecoder(file: file, environment: environment)
        var root: ConfigNode
        var text = yaml
        var renamed: [DuplicateKeys.Renamed] = []
        while true {
            do {
                guard let node = try YAMLComposer.compose(text) else {
                    decoder.diagnostics.error("the pipeline file is empty", at: decoder.rootLocation)
                    return Result(config: PipelineConfig(), diagnostics: decoder.diagnostics)
                }
                root = decoder.convert(node)
                break
            } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
                // Yams refuses duplicate keys outright. Where the later occurrence can be found
                // in the text (a plain key of a block mapping), it is renamed and the file is
                // read again, so every other problem is reported too; else this one ends the check.
                if renamed.count < DuplicateKeys.maxRenamed,
                    let rename = DuplicateKeys.rename(
                        duplicates, firstAt: context.mark.line, column: context.mark.column, in: text,
                        count: renamed.count)
                {
                    text = rename.text
                    renamed.append(rename.renamed)
                    continue
                }
                DuplicateKeys.report(duplicates, context: context, file: file, into: &decoder)
                return Result(config: PipelineConfig(), diagnostics: decoder.diagnostics)
            } catch let error as YamlError {
                decoder.diagnostics.error(
                    "not valid YAML: \(decoder.problem(of: error))", at: decoder.location(of: error))
                return Result(config: PipelineConfig(), diagnostics: decoder.diagnostics)
            } catch {
                decoder.diagnostics.error("not valid YAML: \(error)", at: decoder.rootLocation)
                return Result(config: PipelineConfig(), diagnostics: decoder.diagnostics)
            }
        }
        for duplicate in renamed {
            decoder.diagnostics.error(
                "duplicate key '\(duplicate.key)' in this mapping (first at line \(duplicate.firstLine))",
                at: ConfigLocation(path: "", file: file, line: duplicate.line, column: duplicate.column),
                hint: "each key may appear once")
        }
        DuplicateKeys.remove(from: &root)
        let config = decoder.decodePipelineConfig(root)
        if checkingStartup { config.checkStartup(diagnostics: &decoder.diagnostics) }
        var kubernetesSources: [KubernetesSourceRequest] = []
        let stages = config.stageChain(diagnostics: &decoder.diagnostics, kubernetesSources: &kubernetesSources)
        return Result(
            config: config, diagnostics: decoder.diagnostics, stages: stages, kubernetesSources: kubernetesSources)
    }
}

/// Walks positioned nodes into typed configuration, recording diagnostics.
struct ConfigDecoder {
    let file: String
    let environment: [String: String]
    var diagnostics = ConfigDiagnostics()
    /// Every processor id the file declares, supported or not (so a pipeline that lists an
    /// unsupported one is not told it is undefined as well).
    var declaredProcessorIDs: [ComponentID] = []
    /// Every `auth.authenticator` met, checked once the extensions are known.
    var authenticatorReferences: [(ComponentID, ConfigLocation)] = []
    /// Every exporter's `sending_queue.storage` met, checked once the extensions are known.
    var storageReferences: [(ComponentID, ConfigLocation)] = []

    var rootLocation: ConfigLocation { ConfigLocation(path: "", file: file, line: 1, column: 1) }

    init(file: String, environment: [String: String]) {
        self.file = file
        self.environment = environment
    }

    func location(of error: YamlError) -> ConfigLocation {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return ConfigLocation(path: "", file: file, line: mark.line, column: mark.column)
        default:
            return rootLocation
        }
    }

    func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _),
            .composer(let context, let problem, _, _):
            return [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        default:
            return "\(error)"
        }
    }

    // MARK: YAML → ConfigNode

    mutating func convert(_ node: Node) -> ConfigNode {
        let line = node.mark?.line ?? 1
        let column = node.mark?.column ?? 1
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain && (scalar.string == "~" || scalar.string == "null" || scalar.string.isEmpty) {
                return ConfigNode(.null, line: line, column: column)
            }
            let at = ConfigLocation(path: "", file: file, line: line, column: column)
            let textOffset: Int? =
                switch scalar.style {
                case .plain: 0
                case .singleQuoted, .doubleQuoted: 1
                default: nil
                }
            return ConfigNode(
                .scalar(substitute(scalar.string, at: at)), line: line, column: column, textOffset: textOffset)
        case .mapping(let mapping):
            return ConfigNode(
                .mapping(mapping.map { (key: convert($0.key), value: convert($0.value)) }), line: line, column: column)
        case .sequence(let sequence):
            return ConfigNode(.sequence(sequence.map { convert($0) }), line: line, column: column)
        case .alias:
            return ConfigNode(.null, line: line, column: column)
        }
    }

    /// `${env:NAME}` and `${env:NAME:-default}`; an unset variable without a default is a
    /// problem (the Collector would silently use an empty string). `$$` is a literal `$`, as in
    /// the Collector's confmap, so values pasted from its files (`$$1` in a replacement,
    /// `k8s.pod.labels.$$1` in a tag name) mean what they meant there.
    mutating func substitute(_ text: String, at location: ConfigLocation) -> String {
        guard text.contains("$") else { return text }
        var result = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            let next = rest.index(after: dollar)
            if next < rest.endIndex && rest[next] == "$" {
                result += "$"
                rest = rest[rest.index(after: next)...]
                continue
            }
            guard next < rest.endIndex, rest[next] == "{",
                let end = rest[next...].firstIndex(of: "}")
            else {
                result += "$"
                rest = rest[next...]
                continue
            }
            let reference = String(rest[rest.index(after: next)..<end])
            rest = rest[rest.index(after: end)...]
            guard reference.hasPrefix("env:") else {
                diagnostics.error(
                    "unsupported substitution ${\(reference)}", at: location,
                    hint: "use ${env:NAME} or ${env:NAME:-default}; write $$ for a literal $")
                continue
            }
            let body = reference.dropFirst(4)
            let (name, fallback): (String, String?) =
                if let separator = body.range(of: ":-") {
                    (String(body[..<separator.lowerBound]), String(body[separator.upperBound...]))
                } else {
                    (String(body), nil)
                }
            if let value = environment[name] {
                result += value
            } else if let fallback {
                result += fallback
            } else {
                diagnostics.error(
                    "environment variable \(name) is not set", at: location,
                    hint: "set it, or write ${env:\(name):-default}")
            }
        }
        return result + rest
    }

    // MARK: Helpers

    /// The entries of a mapping node (duplicate keys reported); nil with a diagnostic when the
    /// node is something else. An empty node is an empty mapping.
    mutating func entries(_ node: ConfigNode, at location: ConfigLocation) -> [(
        key: String, node: ConfigNode, location: ConfigLocation
    )]? {
        switch node.value {
        case .null: return []
        case .mapping(let pairs):
            var seen: Set<String> = []
            var result: [(key: String, node: ConfigNode, location: ConfigLocation)] = []
            for pair in pairs {
                guard let key = pair.key.scalar else {
                    diagnostics.error("keys must be plain names", at: pair.key.location(location))
                    continue
                }
                let keyLocation = pair.key.location(location, key)
                guard seen.insert(key).inserted else {
                    diagnostics.error("duplicate key '\(key)'", at: keyLocation, hint: "each id may appear once")
                    continue
                }
                result.append((key, pair.value, keyLocation))
            }
            return result
        default:
            diagnostics.error("expected a mapping, found \(node.kindName)", at: node.location(location))
            return nil
        }
    }

    /// A component's settings (its mapping's entries), every key not in `known` reported; nil
    /// with a diagnostic when the settings are not a mapping. What every component's decoding
    /// starts with.
    mutating func settings(of component: Component, known: [String]) -> [Entry]? {
        guard let settings = entries(component.node, at: component.location) else { return nil }
        rejectUnknownKeys(settings, known: known)
        return settings
    }

    /// Reports every key not in `known`, naming the nearest known key.
    mutating func rejectUnknownKeys(
        _ entries: [(key: String, node: ConfigNode, location: ConfigLocation)], known: [String]
    ) {
        for entry in entries where !known.contains(entry.key) {
            let hint =
                NearestName.suggestion(for: entry.key, among: known).map { "did you mean '\($0)'?" }
                ?? "known keys: \(known.joined(separator: ", "))"
            diagnostics.error("unknown key '\(entry.key)'", at: entry.location, hint: hint)
        }
    }

    mutating func string(_ node: ConfigNode, at location: ConfigLocation) -> String? {
        guard let text = node.scalar else {
            diagnostics.error("expected a string, found \(node.kindName)", at: location)
            return nil
        }
        return text
    }

    /// A list of strings (a single string is a list of one, as the Collector reads `include`).
    mutating func strings(_ node: ConfigNode, at location: ConfigLocation) -> [(String, ConfigLocation)] {
        switch node.value {
        case .scalar(let text): return [(text, location)]
        case .null: return []
        case .sequence(let items):
            return items.compactMap { item in
                let itemLocation = item.location(location)
                return string(item, at: itemLocation).map { ($0, itemLocation) }
            }
        case .mapping:
            diagnostics.error("expected a list of strings, found a mapping", at: location)
            return []
        }
    }

    /// A Go duration (`5s`, `300ms`) as seconds.
    mutating func seconds(_ setting: Entry) -> Double? {
        guard let text = setting.node.scalar, let nanoseconds = DurationText.parse(text), nanoseconds >= 0 else {
            diagnostics.error("expected a duration like 5s or 300ms", at: setting.location)
            return nil
        }
        return Double(nanoseconds) / 1e9
    }

    /// `true` or `false`.
    mutating func bool(_ node: ConfigNode, at location: ConfigLocation) -> Bool? {
        guard let text = string(node, at: location) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default:
            diagnostics.error("expected true or false, found '\(text)'", at: location)
            return nil
        }
    }

    /// A size in bytes, as the Collector writes them: a number, or a number with a unit
    /// (`64KiB`, `1MiB`, `1kb`, `16MB`: KB, MB and GB are powers of 1000, KiB, MiB and GiB of 1024).
    mutating func byteSize(_ setting: Entry) -> Int? {
        let text = (setting.node.scalar ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        let digits = text.prefix { $0.isNumber }
        let units: [String: Int] = [
            "": 1, "b": 1, "kb": 1000, "kib": 1 << 10, "mb": 1_000_000, "mib": 1 << 20, "gb": 1_000_000_000,
            "gib": 1 << 30,
        ]
        let unit = text.dropFirst(digits.count).trimmingCharacters(in: .whitespaces)
        guard let number = Int(digits), let scale = units[unit], number <= Int.max / scale else {
            diagnostics.error("expected a size like 1048576, 64KiB or 1MiB", at: setting.location)
            return nil
        }
        return number * scale
    }

    mutating func choice<T: RawRepresentable & CaseIterable>(
        _ node: ConfigNode, at location: ConfigLocation, as: T.Type
    ) -> T?
    where T.RawValue == String {
        guard let text = string(node, at: location) else { return nil }
        guard let value = T(rawValue: text) else {
            let names = T.allCases.map(\.rawValue)
            let hint =
                NearestName.suggestion(for: text, among: names).map { "did you mean '\($0)'?" }
                ?? "one of: \(names.joined(separator: ", "))"
            diagnostics.error("'\(text)' is not a valid value", at: location, hint: hint)
            return nil
        }
        return value
    }
}
