import Testing
import TraplineCore
import TraplineTestSupport

@testable import TraplineRules

/// `SamplingProbability(trace_state)`: the `ot=th:` threshold of OpenTelemetry's consistent
/// probability sampling as a probability, (2^56 − T) / 2^56 with T the 14-digit threshold.
@Suite struct SamplingProbabilityTests {
    @Test(arguments: [
        ("ot=th:0", 1.0),  // keeps everything
        ("ot=th:8", 0.5),
        ("ot=th:c", 0.25),
        ("ot=th:f", 0.0625),
        ("ot=th:ffc", 1.0 / 1024),
        ("ot=rv:0123456789abcd;th:c", 0.25),  // th after another sub-key
        ("congo=t61rcWkgMzE, ot=th:8", 0.5),  // ot after another vendor, with OWS
        ("ot=th:fd70a4", 1 - 16_609_444.0 / 16_777_216),
    ])
    func thresholdsGiveTheirProbability(traceState: String, probability: Double) {
        #expect(SamplingThreshold.probability(inTraceState: traceState) == probability)
    }

    @Test(arguments: ["", "congo=t61rcWkgMzE", "ot=rv:0123456789abcd", "ot=th:", "ot=th:123456789abcdef", "ot=th:XY"])
    func noValidThresholdIsUnknown(traceState: String) {
        #expect(SamplingThreshold.probability(inTraceState: traceState) == nil)
    }

    @Test func theConverterTypeChecksAndCompares() throws {
        // A string argument and a double result: comparing with a number type-checks.
        _ = try RuleFixtures.group(conditions: ["SamplingProbability(trace_state) < 0.01"], signal: .traces)
        #expect(throws: RuleIssues.self) {
            try RuleFixtures.group(conditions: ["SamplingProbability(1) < 0.01"], signal: .traces)
        }
        #expect(throws: RuleIssues.self) {
            try RuleFixtures.group(conditions: ["SamplingProbability() < 0.01"], signal: .traces)
        }
    }
}
