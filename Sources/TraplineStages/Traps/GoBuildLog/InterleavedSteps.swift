/// Splits a log written by parallel CI steps, whose lines are tagged with their step, into one
/// log per step, so that one step's settings (an explicit `CGO_ENABLED=0`, a `GOARCH`) are not
/// read as another's.
///
/// Tags, at the start of a line: `[step] ` (`sed 's/^/[step] /'`, GNU parallel `--tag`-like
/// wrappers, many CI runners), BuildKit's `#12 0.345 ` (docker buildx plain progress) and
/// docker compose's `service  | `. A log is split only when one form tags at least half of its
/// non-empty lines (a capture header's not counted) with at least two different steps; untagged
/// lines form a step of their own.
enum InterleavedSteps {
    /// The lines of each step, tags removed, in log order; `nil` when the log is not interleaved.
    static func split(_ lines: [BuildLogLines.Line]) -> [[BuildLogLines.Line]]? {
        var nonEmpty = 0
        var tagged: [Form: Int] = [:]
        for line in lines where !line.text.isEmpty && !GoBuildContext.isCaptureHeader(line.text) {
            nonEmpty += 1
            if let (form, _, _) = tag(line.text) { tagged[form, default: 0] += 1 }
        }
        guard let (form, count) = tagged.max(by: { $0.value < $1.value }), count * 2 >= nonEmpty else { return nil }
        var order: [Substring] = []
        var steps: [Substring: [BuildLogLines.Line]] = [:]
        for line in lines {
            var key: Substring = ""
            var text = line.text
            if let (lineForm, lineKey, rest) = tag(line.text), lineForm == form {
                key = lineKey
                text = rest
            }
            if steps[key] == nil { order.append(key) }
            steps[key, default: []].append(BuildLogLines.Line(number: line.number, text: text))
        }
        guard steps.keys.filter({ !$0.isEmpty }).count >= 2 else { return nil }
        return order.compactMap { steps[$0] }
    }

    enum Form: Hashable {
        case bracket, buildKit, compose
    }

    /// The tag of one line: its form, the step's key and the text after it.
    static func tag(_ text: Substring) -> (Form, Substring, Substring)? {
        let bytes = text.utf8
        guard let first = bytes.first else { return nil }
        if first == UInt8(ascii: "[") {
            // `[step] text`: a short key without spaces.
            guard let close = text.firstIndex(of: "]"), text.distance(from: text.startIndex, to: close) <= 40
            else { return nil }
            let key = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            guard !key.isEmpty, !key.contains(" "), after.hasPrefix(" ") else { return nil }
            return (.bracket, key, after.dropFirst())
        }
        if first == UInt8(ascii: "#") {
            // `#12 0.345 text` (and `#12 DONE 0.1s`, `#12 [stage 1/3] RUN …`).
            let words = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard words.count >= 2, words[0].count > 1, words[0].dropFirst().allSatisfy(\.isASCIIDigit) else {
                return nil
            }
            if words.count == 3, words[1].allSatisfy({ $0.isASCIIDigit || $0 == "." }), words[1].contains(".") {
                return (.buildKit, words[0], words[2])
            }
            return (.buildKit, words[0], text[words[1].startIndex...])
        }
        // `service   | text` (a byte search first: this is asked of every line)
        guard text.has(" | "), let bar = text.firstRange(of: " | ") else { return nil }
        let key = text[..<bar.lowerBound].trimmingSpaces()
        guard !key.isEmpty, key.count <= 40,
            key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." })
        else { return nil }
        return (.compose, key, text[bar.upperBound...])
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
