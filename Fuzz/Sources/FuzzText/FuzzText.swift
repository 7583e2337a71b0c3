// libFuzzer target: the text-log splitter (FrameReader's text frames and TextLogDecoder) against
// the plain reference in TextSplitCheck, and the build-log scanner on the same text
// (BuildLogScanCheck: no crash, the same answer twice, traps pointing into the log). Both checks
// are links to the main package's test support, which the regression tests share to replay this
// target's findings. Build and run with Fuzz/run.sh.
import FuzzDriver

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    if let problem = TextSplitCheck.problem(bytes) { FuzzDriver.fail(problem) }
    // The first two bytes configure the splitter; the scanner reads the text after them.
    if let problem = BuildLogScanCheck.problem(Array(bytes.dropFirst(2))) { FuzzDriver.fail(problem) }
    return 0
}
