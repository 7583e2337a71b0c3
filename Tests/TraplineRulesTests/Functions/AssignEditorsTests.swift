import Testing
import TraplineCore
import TraplineRules
import TraplineTestSupport

/// `set` and `append` (Sources/TraplineRules/Functions/Assign).
@Suite struct AssignEditorsTests {
    @Test func setWhenMissing() throws {
        let views = try RuleFixtures.transformedSpans([
            #"set(span.attributes["test"], "pass") where span.attributes["test"] == nil"#
        ])
        #expect(views.allSatisfy { $0.attributes["test"] == "pass" })
    }

    @Test func combineTwoAttributes() throws {
        let views = try RuleFixtures.transformedSpans([
            #"set(resource.attributes["test"], Concat([resource.attributes["foo"], resource.attributes["bar"]], " "))"#
        ])
        #expect(views.first?.resourceAttributes["test"] == "left right")
    }

    @Test func moveBodyToAttribute() throws {
        let views = try RuleFixtures.transformedLogs([#"set(log.attributes["body"], log.body)"#])
        #expect(views[0].attributes["body"] == "request failed")
        #expect(views[4].attributes["body"] == "{object:pod}")
    }

    @Test func setsEveryLevel() throws {
        let views = try RuleFixtures.transformedLogs([
            #"set(resource.attributes["test"], "pass")"#, #"set(scope.attributes["test"], ["pass"])"#,
            #"set(log.attributes["test"], true)"#,
        ])
        #expect(views[0].resourceAttributes["test"] == "pass")
        #expect(views[0].scopeAttributes["test"] == "[pass]")
        #expect(views[0].scopeName == "app")
        #expect(views.allSatisfy { $0.attributes["test"] == "true" })
    }

    @Test func idsAndFlagsReadAndWrite() throws {
        let views = try RuleFixtures.transformedSpans([
            #"set(span.attributes["trace"], span.trace_id.string)"#,
            #"set(span.trace_id.string, "ffffffffffffffffffffffffffffff01") where span.name == "db query""#,
            #"set(span.attributes["flags"], span.flags + 1)"#,
        ])
        #expect(views[0].attributes["trace"] == "0102030405060708090a0b0c0d0e0f10")
        #expect(views[2].traceID == "ffffffffffffffffffffffffffffff01")
        #expect(views[0].attributes["flags"] == "1")
    }

    @Test func appendMakesAListOfASingleValueAndAddsValues() throws {
        let views = try RuleFixtures.transformedSpans([
            #"append(span.attributes["http.request.method"], "HEAD")"#,
            #"append(span.attributes["tags"], values = ["a", "b"])"#,
        ])
        #expect(views[0].attributes["http.request.method"] == "[GET,HEAD]")
        #expect(views[0].attributes["tags"] == "[a,b]")
    }

    @Test func setRefusesAValueOfAnotherType() {
        #expect(throws: RuleIssues.self) {
            try RuleFixtures.group(statements: [#"set(span.name, 3)"#], signal: .traces)
        }
    }
}
