// libFuzzer target: the YAML -> pipeline builder (Yams, the config decoder, OTTL compilation of
// every processor, the traps files it names). A pipeline file is never a reason to crash: every
// problem is a diagnostic that points into the text. Build and run with Fuzz/run.sh.
import FuzzDriver
@_spi(Plumbing) import Trapline

/// Variables the `${env:…}` substitutions of the seeds can find.
let environment = [
    "TRAPLINE_CAPTURES": "Fixtures/generated", "TRAPLINE_OUTPUT": "/dev/null", "TRAPLINE_FORMAT": "json",
    "TRAPLINE_METRICS": "/dev/null", "EMPTY": "",
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: FuzzDriver.bytes(data, size), as: UTF8.self)
    let loaded = ConfigLoader.load(yaml: text, file: "fuzz.yaml", environment: environment)
    // A diagnostic names a place in the file: line 1 up to one past the last line, where lines
    // end as YAML (libyaml) ends them: LF, CRLF, a lone CR, NEL, LS or PS.
    var lines = 1
    for character in text {
        if ["\n", "\r", "\r\n", "\u{85}", "\u{2028}", "\u{2029}"].contains(character) { lines += 1 }
    }
    for diagnostic in loaded.diagnostics.all {
        FuzzDriver.require(diagnostic.file == "fuzz.yaml", "diagnostic for another file: \(diagnostic)")
        FuzzDriver.require(
            (1...lines + 1).contains(diagnostic.line) && diagnostic.column >= 1,
            "diagnostic outside the file (\(lines) lines): \(diagnostic)")
        FuzzDriver.require(!diagnostic.message.isEmpty, "diagnostic without a message at \(diagnostic.line)")
    }
    // The same text loads the same way (no state leaks from one load into the next).
    let again = ConfigLoader.load(yaml: text, file: "fuzz.yaml", environment: environment)
    FuzzDriver.require(
        again.diagnostics.sorted.map(\.description) == loaded.diagnostics.sorted.map(\.description),
        "loading the same text twice gave different diagnostics")
    if loaded.diagnostics.isEmpty {
        // A valid file describes its exporters (nothing is opened here: paths come from the input).
        _ = loaded.config.outputs()
    }
    return 0
}
