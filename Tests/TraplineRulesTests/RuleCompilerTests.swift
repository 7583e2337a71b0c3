import Testing
import TraplineRules

/// Load-time checks: every mistake is found before anything runs, with its column.
@Suite struct RuleCompilerTests {
    func issue(statement: String? = nil, condition: String? = nil, signal: RuleSignal = .traces) -> RuleIssue? {
        let result = RuleGroup.compile(
            statements: statement.map { [$0] } ?? [], conditions: condition.map { [$0] } ?? [], signal: signal,
            context: nil, errorMode: .ignore)
        if case .failure(let issues) = result { return issues.all.first }
        return nil
    }

    static let mistakes: [(String, String, RuleError.Code, Int)] = [
        // (statement, expected fragment, code, column)
        (#"set(span.name, Upper(span.name))"#, "unknown converter 'Upper'", .unknownFunction, 16),
        (#"sett(span.name, "x")"#, "did you mean set?", .unknownFunction, 1),
        (#"set(span.name)"#, "set needs 2 arguments", .argumentCount, 1),
        (#"delete_key(span.attributes, "a", "b")"#, "at most 2 arguments", .argumentCount, 34),
        (#"set(span.name, 5)"#, "cannot set a string field to a int value", .typeMismatch, 16),
        (#"set(span.name, "x") where span.kind == "server""#, "SPAN_KIND_SERVER", .typeMismatch, 37),
        (#"set(span.nmae, "x")"#, "did you mean 'name'?", .unknownPath, 5),
        (
            #"set(span.attributes["a"], "x") where span.duration > 5"#, "not a path of the span context", .unknownPath,
            38
        ),
        (#"set(span.name, "x") where span.name > 3"#, "cannot order", .typeMismatch, 37),
        (#"set(span.name, "x") where span.name"#, "'where' needs a condition", .typeMismatch, 27),
        (#"keep_keys(span.name, ["a"])"#, "needs a map target", .typeMismatch, 11),
        (#"set(span.name, "x") where IsMatch(span.name, "a(")"#, "missing ')'", .invalidRegex, 46),
        (#"set(log.body, "x")"#, "cannot be used in traces rules", .contextConflict, 5),
        (#"set(span.attributes["a"], "x") where span.kind == SPAN_KIND_SERVR"#, "SPAN_KIND_SERVER", .unknownEnum, 51),
        (#"set(span.name, "x) "#, "unterminated string", .invalidToken, 16),
        (#"set(span.name, Substring(span.name, 0))"#, "Substring needs 3 arguments", .argumentCount, 16),
    ]

    @Test(arguments: mistakes)
    func statementMistakesAreFoundWithTheirColumn(_ mistake: (String, String, RuleError.Code, Int)) throws {
        let found = try #require(issue(statement: mistake.0), "\(mistake.0) compiled")
        #expect(found.error.code == mistake.2, "\(found.error)")
        #expect(found.error.column == mistake.3, "\(found.error)")
        #expect(found.error.message.contains(mistake.1), "\(found.error.message)")
    }

    @Test func conditionsMustBeBooleans() throws {
        let found = try #require(issue(condition: #"span.name"#))
        #expect(found.error.code == .typeMismatch)
        #expect(!found.isStatement)
    }

    @Test func mixingLogAndSpanPathsIsAConflict() throws {
        let found = try #require(
            issue(condition: #"span.name == "a" or resource.attributes["x"] == log.body"#, signal: .logs))
        #expect(found.error.code == .contextConflict)
    }

    @Test func everyProblemOfAListIsReported() {
        let result = RuleGroup.compile(
            statements: [#"set(span.name, 1)"#, #"set(span.name, "ok")"#, #"nope(span.name)"#], conditions: [],
            signal: .traces, context: nil, errorMode: .ignore)
        guard case .failure(let issues) = result else {
            Issue.record("compiled")
            return
        }
        #expect(issues.all.map(\.index) == [0, 2])
    }

    @Test func namedArgumentsBindByName() throws {
        let result = RuleGroup.compile(
            statements: [#"truncate_all(target = span.attributes, limit = 3)"#], conditions: [], signal: .traces,
            context: nil, errorMode: .ignore)
        guard case .success(let group) = result else {
            Issue.record("did not compile")
            return
        }
        #expect(group.context == .span)
    }
}
