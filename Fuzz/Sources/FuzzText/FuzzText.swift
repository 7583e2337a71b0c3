// libFuzzer target: the text-log splitter (FrameReader's text frames and TextLogDecoder) against
// the plain reference in TextSplitCheck (a link to the main package's test support, which the
// regression tests share to replay this target's findings). Build and run with Fuzz/run.sh.
import FuzzDriver

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if let problem = TextSplitCheck.problem(FuzzDriver.bytes(data, size)) { FuzzDriver.fail(problem) }
    return 0
}
