/// How baseline evidence writes numbers (no Foundation here): durations in the largest unit
/// that keeps them at or above 1, rates as percentages, both to three significant digits.
enum BaselineText {
    /// `850 µs`, `412 ms`, `2.5 s`, `15m`-style windows as `15 min`.
    static func duration(_ nanoseconds: UInt64) -> String {
        let value = Double(nanoseconds)
        if value >= 3_600e9 && nanoseconds % 3_600_000_000_000 == 0 { return number(value / 3_600e9) + " h" }
        if value >= 60e9 && nanoseconds % 60_000_000_000 == 0 { return number(value / 60e9) + " min" }
        if value >= 1e9 { return number(value / 1e9) + " s" }
        if value >= 1e6 { return number(value / 1e6) + " ms" }
        if value >= 1e3 { return number(value / 1e3) + " µs" }
        return number(value) + " ns"
    }

    /// `94.3%`.
    static func percent(_ rate: Double) -> String { number(rate * 100) + "%" }

    /// `8.2`.
    static func ratio(_ value: Double) -> String { number(value) }

    /// Three significant digits, no trailing zeros: `2.5`, `412`, `1250`, `0.0123`.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return String(describing: value) }
        if value == 0 { return "0" }
        var decimals = 0
        var magnitude = abs(value)
        while magnitude < 100 && decimals < 6 {
            magnitude *= 10
            decimals += 1
        }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        var digits = String(Int64(scaled))
        if decimals > 0 {
            while digits.count <= decimals { digits = "0" + digits }
            let point = digits.index(digits.endIndex, offsetBy: -decimals)
            var fraction = String(digits[point...])
            while fraction.hasSuffix("0") { fraction.removeLast() }
            digits = String(digits[..<point]) + (fraction.isEmpty ? "" : "." + fraction)
        }
        return (value < 0 ? "-" : "") + digits
    }
}
