import Testing
import TraplineTestSupport

@testable import TraplineRules

@Suite struct ByteRegexTests {
    static let cases: [(String, String, Bool)] = [
        (".*password.*", "my password=1", true),
        (".*password.*", "my pass", false),
        ("^GET /health", "GET /healthz", true),
        ("^GET /health", "xGET /healthz", false),
        ("\\d{4}$", "account 1234", true),
        ("\\d{4}$", "account 1234x", false),
        ("(?i)error", "An ERROR here", true),
        ("\\sINFO\\s", "[2023] INFO [x]", true),
        ("\\sINFO\\s", "[2023]INFO[x]", false),
        ("^\\{", "{\"a\":1}", true),
        ("a|b|c", "zzc", true),
        ("^(ab)+$", "ababab", true),
        ("^(ab)+$", "ababa", false),
        ("^.{3}$", "héé", true),
        ("^[^a-z]+$", "ÀÉ12", true),
        ("^[à-ü]+$", "éü", true),
        ("^[à-ü]+$", "éz", false),
        ("\\bcat\\b", "a cat!", true),
        ("\\bcat\\b", "concat", false),
        ("^$", "", true),
        ("x*", "", true),
        ("[[:digit:]]+", "ab7", true),
    ]

    @Test(arguments: cases)
    func matchesAsRE2Does(_ testCase: (String, String, Bool)) throws {
        let regex = try ByteRegex(testCase.0)
        #expect(regex.isMatch(testCase.1) == testCase.2, "\(testCase.0) on \(testCase.1)")
    }

    @Test func capturesLeftmostFirst() throws {
        let regex = try ByteRegex("(?P<key>\\w+)=(\\d+)")
        let text = Array("id: user=42 other=7".utf8)
        let match = try #require(text.withUnsafeBytes { regex.firstMatch($0) })
        #expect(match[0] == 4..<11)
        #expect(match[1] == 4..<8)
        #expect(match[2] == 9..<11)
        #expect(regex.groupNames[1] == "key")
        #expect(text.withUnsafeBytes { regex.allMatches($0).count } == 2)
    }

    @Test func lazyAndGreedyRepetitionDiffer() throws {
        let text = Array("<a><b>".utf8)
        let greedy = try #require(text.withUnsafeBytes { try? ByteRegex("<.+>").firstMatch($0) })
        let lazy = try #require(text.withUnsafeBytes { try? ByteRegex("<.+?>").firstMatch($0) })
        #expect(greedy[0] == 0..<6)
        #expect(lazy[0] == 0..<3)
    }

    @Test(arguments: [("a(b", 1), ("a**", 2), ("[a-", 0), ("\\q", 0), ("x{2,1}", 1), ("(?P<>a)", 0)])
    func refusesBadPatternsWithTheirOffset(_ testCase: (String, Int)) {
        #expect {
            _ = try ByteRegex(testCase.0)
        } throws: { error in
            (error as? RegexSyntaxError)?.offset == testCase.1
        }
    }
}

@Suite struct ByteRegexWordBoundaryTests {
    /// A position where `\b` fails must not end the search (a bug the example pipeline found).
    @Test func wordBoundaryBeforeAGroup() throws {
        let regex = try ByteRegex(#"\b(VALUES|values) \(.*\)"#)
        let text = Array("INSERT INTO payments VALUES (?, ?, ?)".utf8)
        let match = try #require(text.withUnsafeBytes { regex.firstMatch($0) })
        #expect(match[0] == 21..<37)
        #expect(try ByteRegex(#"\bVALUES"#).isMatch("INSERT INTO payments VALUES"))
        #expect(try !ByteRegex(#"\bVALUES"#).isMatch("INSERT INTO paymentsVALUES"))
    }
}

/// `replace_pattern`'s replacement, expected values from Python's `re.sub` (same semantics for
/// these patterns) and Go's `Expand` (a missing group expands to nothing).
@Suite struct RuleReplacementTests {
    static let cases: [(String, String, String, String)] = [
        (#"= \?"#, "SELECT * FROM a WHERE id = ? AND b = ?", "= $1", "SELECT * FROM a WHERE id =  AND b = "),
        (#"password\=[^\s]*(\s?)"#, "run --password=secret -v", "password=***", "run --password=***-v"),
        ("a|ab", "xabyab", "[$0]", "x[a]by[a]b"),
        (#"(\d+)-(\d+)"#, "call 12-34 and 5-6", "$2-$1", "call 34-12 and 6-5"),
        ("^GET", "GET GET", "POST", "POST GET"),
        ("x*", "abc", "-", "-a-b-c-"),
        (#"\bcat"#, "cat concat cat", "dog", "dog concat dog"),
        (#"(?P<k>\w+)=(?P<v>\w+)"#, "a=1 b=2", "${v}=${k}", "1=a 2=b"),
        ("é+", "caféé au lait é", "e", "cafe au lait e"),
        ("$$", "price", "$$5", "price$5"),
    ]

    @Test(arguments: cases)
    func replacesEveryMatch(_ testCase: (String, String, String, String)) throws {
        let regex = try ByteRegex(testCase.0)
        let result = Array(testCase.1.utf8).withUnsafeBytes {
            RuleReplacement.replaceAll(regex, in: $0, with: testCase.2)
        }
        #expect((result ?? testCase.1) == testCase.3, "\(testCase.0)")
    }
}

/// Trapline's regex engine against an independent one: random patterns and texts, the leftmost
/// match compared with Python's `re` (ASCII mode, where it agrees with RE2).
@Suite(.tags(.slow)) struct ByteRegexDifferentialTests {
    @Test func leftmostMatchesAgreeWithPython() throws {
        let run = try ProcessRunner.python("regex_cases.py", ["1500", "7"])
        #expect(run.status == 0, "\(run.standardError)")
        let lines = String(decoding: run.standardOutput, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 1500)
        var disagreements: [String] = []
        for line in lines {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 4, let start = Int(fields[2]), let end = Int(fields[3]) else { continue }
            let regex: ByteRegex
            do { regex = try ByteRegex(fields[0]) } catch {
                disagreements.append("\(fields[0]): refused (\(error))")
                continue
            }
            let text = Array(fields[1].utf8)
            let match = text.withUnsafeBytes { regex.firstMatch($0) }
            let found = match?[0].map { ($0.lowerBound, $0.upperBound) } ?? (-1, -1)
            let matched = text.withUnsafeBytes { regex.isMatch($0) }
            if found != (start, end) || matched != (start >= 0) {
                disagreements.append(
                    "\(fields[0]) on '\(fields[1])': python \(start)..<\(end), trapline \(found), isMatch \(matched)")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(10).joined(separator: "\n"))")
    }

    /// The config fuzz target's timeout (`regressions/fuzz/config/long-key-regex.yaml`): a
    /// pattern whose DFA would take more building than `RegexDFA.maxWork` allows runs on the
    /// Pike VM instead, and matches the same.
    @Test func patternTooCostlyForTheDFAStillMatches() throws {
        let regex = try ByteRegex("te.m|enviro" + String(repeating: ".", count: 97) + "nment")
        #expect(regex.dfa == nil)
        let long = "enviro" + String(repeating: "é", count: 97) + "nment"
        #expect(regex.isMatch("x" + long + "y"))
        #expect(regex.isMatch("a team"))
        #expect(!regex.isMatch("enviro" + String(repeating: "x", count: 96) + "nment"))
        #expect(Array(long.utf8).withUnsafeBytes { regex.firstMatch($0)?[0] } == 0..<long.utf8.count)
    }
}
