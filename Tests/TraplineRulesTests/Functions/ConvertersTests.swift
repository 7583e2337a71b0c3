import Testing
import TraplineCore
import TraplineRules
import TraplineTestSupport

/// The converters (Sources/TraplineRules/Functions/Converters).
@Suite struct ConvertersTests {
    @Test func convertersAndFields() throws {
        let views = try RuleFixtures.transformedSpans([
            #"set(span.name, ConvertCase(span.name, "upper")) where span.kind == SPAN_KIND_SERVER"#,
            #"set(span.attributes["duration_ms"], (span.end_time_unix_nano - span.start_time_unix_nano) / 1000000)"#,
            #"set(span.status.message, "slow") where span.end_time - span.start_time > Duration("1s")"#,
            #"set(span.attributes["hash"], SHA256("abc")) where span.name == "db query""#,
            #"set(span.attributes["parts"], Split("a,b", ","))"#,
            #"flatten(span.attributes)"#,
        ])
        #expect(views.map(\.name) == ["GET /HEALTHZ", "app_3", "db query", "CHARGE"])
        #expect(views[0].attributes["duration_ms"] == "5")
        #expect(views[1].statusMessage == "slow")
        #expect(views[2].statusMessage == "slow")
        #expect(views[2].attributes["hash"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(views[3].attributes["parts"] == "[a,b]")
    }

    @Test func severityFromUnstructuredBody() throws {
        let views = try RuleFixtures.transformedLogs([
            #"set(log.severity_number, SEVERITY_NUMBER_INFO) where IsString(log.body) and IsMatch(log.body, "\\sINFO\\s")"#,
            #"set(log.severity_number, SEVERITY_NUMBER_WARN) where IsString(log.body) and IsMatch(log.body, "\\sWARN\\s")"#,
        ])
        #expect(views[1].severityNumber == 9)
        #expect(views[0].severityNumber == 17)
    }

    @Test func runtimeErrorsAreCountedUnderIgnore() throws {
        let group = try RuleFixtures.group(
            statements: [#"set(span.attributes["n"], Int(span.name))"#, #"set(span.attributes["j"], ParseJSON("{"))"#],
            signal: .traces)
        let (views, outcome) = RuleFixtures.transformSpans([group])
        // Int of a name that is no number is nil, which `set` ignores; ParseJSON fails per span.
        #expect(outcome.errors == 4)
        #expect(outcome.firstError?.message.contains("ParseJSON") == true)
        #expect(views.allSatisfy { $0.attributes["n"] == nil })
    }

    @Test(arguments: [
        (#"Substring("abcdef", 1, 3)"#, "bcd"), (#"ConvertCase("HelloWorld", "snake")"#, "hello_world"),
        (#"Len("abc")"#, "3"), (#"Int("42")"#, "42"), (#"IsMatch("abc", "^a")"#, "true"),
        (#"Concat(["a", "b"], "-")"#, "a-b"), (#"Split("a,b", ",")"#, "[a,b]"),
        (#"SHA256("abc")"#, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ])
    func convertersGiveTheCollectorsValues(call: String, expected: String) throws {
        let views = try RuleFixtures.transformedSpans([#"set(span.attributes["out"], "# + call + ")"])
        #expect(views[0].attributes["out"] == expected)
    }
}
