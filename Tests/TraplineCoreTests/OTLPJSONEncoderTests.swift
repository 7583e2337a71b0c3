import Foundation
import Testing
@_spi(Plumbing) import TraplineCore

/// The JSON encoder writes strings eight bytes at a time, ids and integers without `String`: these
/// check its output byte for byte against the rules written out plainly here.
@Suite struct OTLPJSONEncoderTests {
    /// JSON's escapes as the encoder writes them: the two-character forms for quote, backslash,
    /// newline, carriage return and tab, `\u00xx` for the other control bytes, the rest as it is.
    static func escaped(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    static func encodedSpan(name: String, extra: String = "") -> String {
        let line =
            #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0123456789abcdeffedcba9876543210","spanId":"a0b1c2d3e4f5a6b7","name":"\#(escaped(name))"\#(extra)}]}]}]}"#
        let bytes = Array(line.utf8)
        var batch = SpanBatch()
        OTLPJSONDecoder().decodeTraces(input: InputBuffer(bytes), frame: 0..<bytes.count, sourceOffset: 0, into: &batch)
        #expect(batch.rejections.isEmpty, "\(batch.rejections)")
        var out: [UInt8] = []
        OTLPJSONEncoder().encode(batch, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Every length up to 40 bytes (whole words, tails, strings under a word), with each byte
    /// JSON escapes, and multi-byte UTF-8, at every place in the string.
    @Test func stringsOfEveryLengthWithEscapesEverywhere() {
        let specials = ["\"", "\\", "\n", "\r", "\t", "\u{01}", "\u{1F}", "\u{7F}", "é", "🚀"]
        var checked = 0
        for length in 0...40 {
            let plain = String((0..<length).map { Character(UnicodeScalar(UInt8(0x61 + $0 % 26))) })
            #expect(Self.encodedSpan(name: plain).contains(#""name":"\#(plain)""#) == (length > 0))
            for special in specials {
                for position in 0...length {
                    var characters = Array(plain)
                    characters.insert(Character(special), at: position)
                    let name = String(characters)
                    let json = Self.encodedSpan(name: name)
                    #expect(json.contains(#""name":"\#(Self.escaped(name))"}"#), "\(name.debugDescription) in \(json)")
                    checked += 1
                }
            }
        }
        #expect(checked == 8_610)
    }

    /// Ids in lowercase hex with every digit, and 64-bit integers at the edges of their digit counts.
    @Test func idsAndIntegersAreWrittenExactly() {
        let times: [UInt64] = [1, 9, 10, 99, 100, 999, 1_000, 1_700_000_000_123_456_789, UInt64.max]
        for time in times {
            let json = Self.encodedSpan(
                name: "n", extra: #","startTimeUnixNano":"\#(time)","endTimeUnixNano":"\#(time)""#)
            #expect(json.contains(#""startTimeUnixNano":"\#(time)","endTimeUnixNano":"\#(time)""#), "\(json)")
            #expect(json.contains(#""traceId":"0123456789abcdeffedcba9876543210","spanId":"a0b1c2d3e4f5a6b7""#))
        }
        for value in [Int64.min, -1, 0, 7, Int64.max] {
            let json = Self.encodedSpan(
                name: "n", extra: #","attributes":[{"key":"k","value":{"intValue":"\#(value)"}}]"#)
            #expect(json.contains(#"{"key":"k","value":{"intValue":"\#(value)"}}"#), "\(json)")
        }
        // Zero times are left out, as OTLP JSON leaves out default values.
        #expect(!Self.encodedSpan(name: "n", extra: #","startTimeUnixNano":"0""#).contains("startTimeUnixNano"))
    }

    /// A batch much larger than the first guess at its size grows the buffer and loses nothing.
    @Test func longStringsGrowTheBuffer() throws {
        let name = String(repeating: "x\"y", count: 20_000)
        let json = Self.encodedSpan(name: name)
        #expect(json.contains(#""name":"\#(Self.escaped(name))""#))
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        #expect(parsed != nil)
    }
}
