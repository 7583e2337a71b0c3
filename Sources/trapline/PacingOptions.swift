import ArgumentParser
import Trapline

/// `--rate` and `--speed`, shared by `replay` and `run`: how fast a capture goes to the
/// exporters (a backend that must not be flooded, or a load test with the original timing).
struct PacingOptions: ParsableArguments {
    @Option(name: .long, help: "At most this many records (spans, log records, data points) a second.")
    var rate: Double?

    @Option(
        name: .long,
        help: "The capture's own timing (from the records' timestamps), this many times faster (0.5: half speed).")
    var speed: Double?

    func validate() throws {
        if rate != nil && speed != nil { throw ValidationError("give --rate or --speed, not both") }
        if let rate, !(rate > 0) { throw ValidationError("--rate must be above 0") }
        if let speed, !(speed > 0) { throw ValidationError("--speed must be above 0") }
    }

    /// The pacing asked for, if any.
    var pacing: Pacing? {
        if let rate { return .recordsPerSecond(rate) }
        if let speed { return .speed(speed) }
        return nil
    }
}
