import Testing
import TraplineCore
import TraplineRules
import TraplineTestSupport

/// The replace editors (Sources/TraplineRules/Functions/Replace).
@Suite struct ReplaceEditorsTests {
    @Test func renameByKeyPattern() throws {
        let views = try RuleFixtures.transformedSpans([
            #"replace_all_patterns(resource.attributes, "key", "k8s\\.namespace\\.name", "namespace")"#
        ])
        #expect(views.first?.resourceAttributes["namespace"] == "shop")
        #expect(views.first?.resourceAttributes["k8s.namespace.name"] == nil)
    }

    /// Go's `Expand` syntax: `$1` ends at the first byte that cannot be in a name, `$$` is a `$`.
    @Test func replacePatternExpandsGroups() throws {
        let views = try RuleFixtures.transformedSpans([
            #"replace_pattern(span.attributes["process.command_line"], "--password=(\\w+)", "--pw=$1-x$$")"#
        ])
        #expect(views[1].attributes["process.command_line"] == "run --pw=secret-x$ -v")
    }

    @Test func replaceMatchReplacesWholeGlobMatchesOnly() throws {
        let views = try RuleFixtures.transformedSpans([#"replace_match(span.name, "GET *", "GET {route}")"#])
        #expect(views.map(\.name) == ["GET {route}", "app_3", "db query", "charge"])
    }

    @Test func replaceAllPatternsInValuesLeavesKeys() throws {
        let views = try RuleFixtures.transformedSpans([
            #"replace_all_patterns(span.attributes, "value", "^GE(T)$", "PU$1")"#
        ])
        #expect(views[0].attributes["http.request.method"] == "PUT")
        #expect(views[1].attributes["http.request.method"] == "POST")
    }
}
