import Testing
import TraplineStages

/// TER as DESIGN.md defines it: blocked / (window × density), the density configured or estimated.
@Suite struct TrapEscapeRateTests {
    @Test func aConfiguredDensityDividesTheBlockedEventsByTheExpectedOnes() {
        // 3 blocked in 2 hours where 4 per hour were expected: 3 / 8.
        let rate = TrapEscapeRate(
            blocked: 3, identified: 5, windowSeconds: 7200, configuredDensityPerSecond: 4.0 / 3600)
        #expect(rate.value == 3.0 / 8.0)
        #expect(rate.densityPerSecond == 4.0 / 3600)
    }

    @Test func anEstimatedDensityMakesTERTheBlockedShare() {
        let rate = TrapEscapeRate(blocked: 2, identified: 8, windowSeconds: 100)
        #expect(rate.densityPerSecond == 0.08)
        #expect(rate.value == 0.25)
        // Without timestamps the window is empty, and the share is still defined.
        #expect(TrapEscapeRate(blocked: 2, identified: 8).value == 0.25)
    }

    @Test func undefinedWithoutTrapsOrWithAnEmptyWindow() {
        #expect(TrapEscapeRate().value == nil)
        #expect(TrapEscapeRate(blocked: 1, identified: 1, windowSeconds: 0, configuredDensityPerSecond: 1).value == nil)
    }
}
