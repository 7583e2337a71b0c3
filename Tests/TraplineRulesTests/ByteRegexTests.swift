import Testing
import TraplineRules

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
