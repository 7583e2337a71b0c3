import Foundation
public import TraplineStages

/// Reads Go package sources from the file system for `GoBuildLogScanner`'s rules that need them.
///
/// Paths come from the log as printed: `$HOME`-style variables are expanded from `environment` (logs often
/// have local paths replaced by them), relative paths are taken from `workingDirectory`.
@_spi(Plumbing) public struct FileSystemGoSources: GoSourceInspector {
    /// Variables for `$NAME` in paths.
    public var environment: [String: String]
    /// Where relative paths start.
    public var workingDirectory: String
    /// The checkout the log was built in, when it is somewhere else here (`gate --source-root`):
    /// relative paths start there, and an absolute path of the build machine that does not exist
    /// here is looked for under it by its trailing components, longest first
    /// (`/home/runner/work/app/app/net/dns` as `ROOT/home/runner/…`, …, `ROOT/app/net/dns`,
    /// `ROOT/net/dns`).
    public var sourceRoot: String?

    /// Makes an inspector.
    ///
    /// - Parameters:
    ///   - environment: by default the process's environment.
    ///   - workingDirectory: by default the process's working directory.
    ///   - sourceRoot: the checkout the log was built in, when it is not where the log says.
    public init(environment: [String: String]? = nil, workingDirectory: String? = nil, sourceRoot: String? = nil) {
        self.environment = environment ?? ProcessInfo.processInfo.environment
        self.workingDirectory = sourceRoot ?? workingDirectory ?? FileManager.default.currentDirectoryPath
        self.sourceRoot = sourceRoot
    }

    public func packageUsesCgo(directory: String) -> Bool? {
        cgoFiles(in: directory).map { !$0.isEmpty }
    }

    public func cgoFileDeclares(_ identifier: String, directory: String) -> Bool? {
        guard let files = cgoFiles(in: directory) else { return nil }
        let declarations = ["func \(identifier)(", "var \(identifier) ", "const \(identifier) ", "type \(identifier) "]
        return files.contains { text in
            text.split(separator: "\n").contains { line in declarations.contains { line.hasPrefix($0) } }
        }
    }

    /// The texts of the package's `.go` files that build only with cgo; `nil` when the directory cannot be read.
    private func cgoFiles(in directory: String) -> [String]? {
        let path = resolve(directory)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return nil }
        return names.filter { $0.hasSuffix(".go") }.sorted().compactMap { name in
            guard let data = FileManager.default.contents(atPath: path + "/" + name) else { return nil }
            let text = String(decoding: data, as: UTF8.self)
            return Self.buildsOnlyWithCgo(text) ? text : nil
        }
    }

    /// `import "C"` (alone or in an import block), or a `//go:build` line that requires cgo.
    static func buildsOnlyWithCgo(_ text: String) -> Bool {
        var inImportBlock = false
        for rawLine in text.split(separator: "\n") {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line == "import \"C\"" || (inImportBlock && line == "\"C\"") { return true }
            if line.hasPrefix("import (") { inImportBlock = true } else if line == ")" { inImportBlock = false }
            if line.hasPrefix("//go:build ") {
                let terms = line.dropFirst("//go:build ".count).split(whereSeparator: { " ()&|".contains($0) })
                if terms.contains("cgo") && !line.contains("||") { return true }
            }
        }
        return false
    }

    /// Expands `$NAME` / `${NAME}` and makes relative paths absolute.
    func resolve(_ path: String) -> String {
        var result = ""
        var rest = Substring(path)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            var after = rest[rest.index(after: dollar)...]
            let braced = after.first == "{"
            if braced { after = after.dropFirst() }
            let name = after.prefix(while: { $0.isLetter || $0.isNumber || $0 == "_" })
            if let value = environment[String(name)], !name.isEmpty {
                result += value
                rest = after[name.endIndex...]
                if braced, rest.first == "}" { rest = rest.dropFirst() }
            } else {
                result += "$"
                rest = rest[rest.index(after: dollar)...]
            }
        }
        result += rest
        guard result.hasPrefix("/") else { return workingDirectory + "/" + result }
        guard let sourceRoot, !FileManager.default.fileExists(atPath: result) else { return result }
        // Longest trailing part first: the most of the build machine's path that the checkout has.
        let components = result.split(separator: "/")
        for count in stride(from: components.count, through: 1, by: -1) {
            let candidate = sourceRoot + "/" + components.suffix(count).joined(separator: "/")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), isDirectory.boolValue {
                return candidate
            }
        }
        return result
    }
}
