import Testing
import TraplineCore

@Suite struct DecodeErrorTests {
    /// Metric families declare one series per code up front, so the list must be complete and
    /// its names unique.
    @Test func everyCodeIsListedOnceWithASentence() {
        let names = Rejection.Reason.all.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(names.count == 39)
        for code in Rejection.Reason.all {
            let text = DecodeError(code, offset: 7, value: 1, limit: 2).description
            #expect(!text.isEmpty && text != code.name, "\(code) has no sentence")
        }
    }

    @Test func descriptionNamesFieldAndPosition() {
        let error = DecodeError(.invalidHexID, offset: 40, field: "Span.traceId", line: 3, column: 17)
        #expect(
            error.description
                == "id is not hexadecimal (OTLP JSON ids are hex, not base64) (field Span.traceId) at line 3, column 17"
        )
    }
}
