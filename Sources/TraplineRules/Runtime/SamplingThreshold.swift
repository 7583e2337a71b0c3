/// The sampling threshold of OpenTelemetry's consistent probability sampling, as a W3C
/// `tracestate` carries it: the `ot` member's `th:` sub-key, 1 to 14 hex digits with trailing
/// zeros removed. The threshold T (56 bits) rejects randomness below it, so a span was kept
/// with probability (2^56 − T) / 2^56.
enum SamplingThreshold {
    /// The probability the `th` threshold of `traceState` gives; nil when there is no `ot=…th:`
    /// or it is not 1 to 14 hex digits (the span's probability is then unknown, not 1).
    static func probability(inTraceState traceState: String) -> Double? {
        var text = traceState
        return text.withUTF8 { probability(inTraceState: UnsafeRawBufferPointer($0)) }
    }

    /// The same over the bytes of a `tracestate` (no copy: the per-span path).
    static func probability(inTraceState bytes: UnsafeRawBufferPointer) -> Double? {
        for member in bytes.split(separator: UInt8(ascii: ",")) {
            let trimmed = member.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            guard trimmed.starts(with: "ot=".utf8) else { continue }
            for field in trimmed.dropFirst(3).split(separator: UInt8(ascii: ";")) {
                guard field.starts(with: "th:".utf8) else { continue }
                return probability(threshold: field.dropFirst(3))
            }
        }
        return nil
    }

    private static func probability(threshold digits: Slice<UnsafeRawBufferPointer>) -> Double? {
        guard (1...14).contains(digits.count) else { return nil }
        var threshold: UInt64 = 0
        for digit in digits {
            let value: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = digit - UInt8(ascii: "a") + 10
            default: return nil
            }
            threshold = threshold << 4 | UInt64(value)
        }
        threshold <<= UInt64(4 * (14 - digits.count))
        let scale = Double(UInt64(1) << 56)
        return (scale - Double(threshold)) / scale
    }
}
