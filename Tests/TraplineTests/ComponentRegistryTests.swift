import Foundation
import Testing
import TraplineTestSupport

@_spi(Plumbing) @testable import Trapline

/// The one table of component types: what the loader accepts, what `validate` and startup
/// check, and what the README lists.
@Suite struct ComponentRegistryTests {
    /// Every registered type (and alias) is decoded by its own component: an entry of the right
    /// section with that type never gets the "not supported" diagnostic, and one of another
    /// section's type does, naming the section's types.
    @Test func everyRegisteredTypeIsDecodedByItsComponent() {
        var checked = 0
        for kind in ComponentKind.allCases {
            for type in ComponentRegistry.typeNames(kind) {
                let yaml = "\(kind.section):\n  \(type):\nservice:\n  pipelines: {}\n"
                let found = ConfigLoader.load(yaml: yaml, file: "one.yaml").diagnostics.all
                #expect(!found.contains { $0.message.contains("is not supported") }, "\(kind) \(type): \(found)")
                #expect(ComponentRegistry.component(kind, type: type) != nil)
                checked += 1
            }
        }
        #expect(checked == 24)
        let wrongSection = ConfigLoader.load(yaml: "receivers:\n  filter:\n", file: "x.yaml").diagnostics.all
        let refusal = wrongSection.first { $0.message == "receiver type 'filter' is not supported" }
        #expect(refusal?.hint?.hasSuffix("supported: file, filelog, otlp, otlpjsonfile, stdin") == true)
    }

    /// What `trapline run` would refuse at startup is refused by the loader, so `validate` says
    /// it: a file that validates starts.
    @Test(arguments: [
        (
            """
            receivers: {stdin: null}
            exporters: {stdout: null, prometheus: {endpoint: ":9464"}}
            service: {pipelines: {traces: {receivers: [stdin], exporters: [stdout, prometheus]}}}
            """,
            "2:27 exporter 'prometheus' serves /metrics, which needs sidecar mode (an otlp receiver)"
        ),
        (
            """
            receivers: {otlp: {protocols: {http: null}}, stdin: null}
            exporters: {stdout: null}
            service: {pipelines: {traces: {receivers: [otlp, stdin], exporters: [stdout]}}}
            """,
            "1:46 receiver 'stdin' reads files or stdin, which cannot run beside an otlp receiver in this version"
        ),
    ])
    func startupRefusalsAreValidationErrors(yaml: String, expected: String) {
        let found = ConfigLoader.load(yaml: yaml, file: "start.yaml").diagnostics.sorted
        #expect(found.map { "\($0.line):\($0.column) \($0.message)" } == [expected])
        // An embedder runs neither receivers nor exporters: the same file builds a Pipeline.
        #expect(throws: Never.self) { try Pipeline(yaml: yaml) }
    }

    /// A sidecar file (an otlp receiver) may forward and serve /metrics.
    @Test func aSidecarMayForwardAndServeMetrics() {
        let yaml = """
            receivers:
              otlp:
                protocols:
                  http:
            exporters:
              otlphttp:
                endpoint: http://127.0.0.1:4318
              prometheus:
                endpoint: 127.0.0.1:9464
            service:
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [otlphttp, prometheus]
            """
        #expect(ConfigLoader.load(yaml: yaml, file: "sidecar.yaml").diagnostics.isEmpty)
    }

    /// The README's component table lists exactly the registered types.
    @Test func theReadmeListsEveryComponent() throws {
        let readme = try String(contentsOf: Fixtures.root.appendingPathComponent("README.md"), encoding: .utf8)
        var listed: Set<String> = []
        for line in readme.split(separator: "\n")
        where line.hasPrefix("| receiver ") || line.hasPrefix("| processor ")
            || line.hasPrefix("| exporter ") || line.hasPrefix("| connector ") || line.hasPrefix("| extension ")
        {
            let cell = line.split(separator: "|")[0]
            let kind = cell.split(separator: " ")[0]
            for name in cell.split(separator: "`").enumerated() where name.offset % 2 == 1 {
                listed.insert("\(kind) \(name.element)")
            }
        }
        let registered = Set(
            ComponentKind.allCases.flatMap { kind in ComponentRegistry.typeNames(kind).map { "\(kind.rawValue) \($0)" }
            })
        #expect(listed == registered)
    }

    /// The README's architecture section names every folder of `Sources/`: modules and their
    /// folders by path (`TraplineCore/Batch/`), the folders inside those by name (`Filter/`).
    @Test func theArchitectureSectionNamesEverySourceFolder() throws {
        let readme = try String(contentsOf: Fixtures.root.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "## Architecture\n"))
        let end = try #require(readme.range(of: "\n## ", range: start.upperBound..<readme.endIndex))
        let section = readme[start.upperBound..<end.lowerBound]
        let sources = Fixtures.root.appendingPathComponent("Sources")
        let files = FileManager.default
        var missing: [String] = []
        var checked = 0
        func visit(_ relative: [String]) {
            let path = ([sources.path] + relative).joined(separator: "/")
            let children = ((try? files.contentsOfDirectory(atPath: path)) ?? []).sorted()
            for child in children {
                var isDirectory: ObjCBool = false
                guard files.fileExists(atPath: path + "/" + child, isDirectory: &isDirectory), isDirectory.boolValue,
                    !child.hasSuffix(".docc"), !["include", "generated"].contains(child)
                else { continue }
                let folder = relative + [child]
                let name = folder.count <= 2 ? folder.joined(separator: "/") : child
                checked += 1
                if !section.contains("`\(name)/`") { missing.append(folder.joined(separator: "/")) }
                visit(folder)
            }
        }
        visit([])
        #expect(missing.isEmpty, "not in the README's architecture section: \(missing)")
        #expect(checked > 40)
    }
}
