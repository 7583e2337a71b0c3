@_spi(Plumbing) import TraplineCore

/// Checks the text-log splitter (FrameReader's text frames and TextLogDecoder) against a
/// reference written the plain way: split the bytes at LF, CRLF and lone CR, number the lines,
/// drop the empty ones. Shared by the `text` fuzz target and the regression tests that replay
/// its findings.
public enum TextSplitCheck {
    /// One log record: its line number and body bytes.
    public struct Record: Equatable, Sendable {
        public var line: Int
        public var body: [UInt8]
    }

    /// What is wrong with how `input` splits, or nil. The first byte picks the line limit (1-32
    /// bytes, so long lines are split often; the reader raises limits under 4 to 4), the second
    /// how a stream trickles the rest in; inputs shorter than two bytes check nothing.
    public static func problem(_ input: [UInt8]) -> String? {
        guard input.count >= 2 else { return nil }
        let text = Array(input.dropFirst(2))
        var options = ReadOptions()
        options.inputFormat = .text
        options.maxLineBytes = Int(input[0] % 32) + 1
        let limit = max(options.maxLineBytes, 4)

        let whole: [Record]
        let trickled: [Record]
        do {
            whole = try records(FrameReader(name: "check", buffer: InputBuffer(text), options: options))
            trickled = try records(
                FrameReader(name: "check", stream: Trickle(bytes: text, seed: Int(input[1])), options: options))
        } catch {
            return "\(error)"
        }
        guard whole == trickled else { return "records depend on how the bytes arrived" }

        // One group of records per non-empty line, in order, under its number.
        var next = 0
        for (number, line) in referenceLines(text) where !line.isEmpty {
            var pieces: [Record] = []
            while next < whole.count && whole[next].line == number {
                pieces.append(whole[next])
                next += 1
            }
            if pieces.isEmpty { return "line \(number) has no record" }
            for piece in pieces {
                if piece.body.isEmpty { return "line \(number): an empty record" }
                if String(validating: piece.body, as: UTF8.self) == nil { return "line \(number): body not UTF-8" }
            }
            if String(validating: line, as: UTF8.self) != nil {
                // Valid lines are copied exactly, cut into pieces no longer than the limit.
                if pieces.flatMap(\.body) != line { return "line \(number): bodies do not add up to the line" }
                if !pieces.allSatisfy({ $0.body.count <= limit }) { return "line \(number): a piece over \(limit)" }
            }
        }
        if next < whole.count { return "records for lines that are empty or absent: \(whole[next...].prefix(3))" }
        return nil
    }

    /// A reader's frames are all text frames, or this error names what came instead.
    struct UnexpectedEvent: Error, CustomStringConvertible {
        var description: String
    }

    /// The records of every text frame, in order.
    static func records(_ reader: FrameReader) throws -> [Record] {
        var reader = reader
        var out: [Record] = []
        var logs = LogBatch()
        while let event = try reader.next() {
            guard case .frame(let frame) = event, case .text(let firstLine, let continues) = frame.payload else {
                throw UnexpectedEvent(description: "a text input gave \(event)")
            }
            _ = TextLogDecoder().decode(
                input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, firstLine: firstLine,
                continuesLine: continues, sourcePath: "check", observedTime: 1, into: &logs)
            guard logs.rejections.isEmpty else { throw UnexpectedEvent(description: "text lines rejected") }
            logs.withBytes { bytes in
                for row in 0..<logs.count {
                    var line = 0
                    for index in logs.recordAttributes[row].range
                    where Array(bytes[logs.attributes.keys[index]]) == Array(TextLogDecoder.lineAttributeKey.utf8) {
                        line = Int(logs.attributes.values[index].int)
                    }
                    out.append(Record(line: line, body: Array(bytes[logs.bodies[row].slice])))
                }
            }
        }
        return out
    }

    /// The lines of `text` with their 1-based numbers, without terminators.
    static func referenceLines(_ text: [UInt8]) -> [(Int, [UInt8])] {
        var lines: [(Int, [UInt8])] = []
        var current: [UInt8] = []
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == 0x0A || byte == 0x0D {
                lines.append((lines.count + 1, current))
                current = []
                if byte == 0x0D && index + 1 < text.count && text[index + 1] == 0x0A { index += 1 }
            } else {
                current.append(byte)
            }
            index += 1
        }
        if !current.isEmpty { lines.append((lines.count + 1, current)) }
        return lines
    }
}

/// A stream that hands out 1 to 8 bytes per read, in a pattern set by `seed`.
struct Trickle: ByteStream {
    let bytes: [UInt8]
    let seed: Int
    var position = 0
    var reads = 0

    init(bytes: [UInt8], seed: Int) {
        self.bytes = bytes
        self.seed = seed
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(StreamError) -> Int {
        reads += 1
        let count = min(buffer.count, bytes.count - position, 1 + (seed &* 31 &+ reads &* 7) % 8)
        guard count > 0 else { return 0 }
        let start = position
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<start + count]))
        }
        position += count
        return count
    }
}
