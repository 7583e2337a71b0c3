@_spi(Plumbing) import Trapline
import TraplineCore
import TraplineStages

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

// The C ABI of include/trapline.h: thin @_cdecl functions over `Pipeline`. Handles are retained
// `Pipeline` objects passed as opaque pointers; nothing Swift crosses the boundary.

private let ok: Int32 = 0
private let argumentError: Int32 = -1
private let configurationError: Int32 = -2
private let undecodableError: Int32 = -3

/// Writes `message` into the caller's buffer, truncated and NUL-terminated.
private func report(_ message: String, _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int) {
    guard let buffer, size > 0 else { return }
    let bytes = Array(message.utf8.prefix(size - 1))
    for (index, byte) in bytes.enumerated() { buffer[index] = CChar(bitPattern: byte) }
    buffer[bytes.count] = 0
}

private func pipeline(_ handle: OpaquePointer?) -> Pipeline? {
    handle.map { Unmanaged<Pipeline>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

@_cdecl("trapline_pipeline_new")
public func traplinePipelineNew(
    _ yaml: UnsafePointer<CChar>?, _ error: UnsafeMutablePointer<CChar>?, _ errorSize: Int
) -> OpaquePointer? {
    guard let yaml else {
        report("yaml is NULL", error, errorSize)
        return nil
    }
    do throws(Pipeline.ConfigurationError) {
        let created = try Pipeline(yaml: String(cString: yaml))
        return OpaquePointer(Unmanaged.passRetained(created).toOpaque())
    } catch let failure {
        report(failure.description, error, errorSize)
        return nil
    }
}

@_cdecl("trapline_pipeline_free")
public func traplinePipelineFree(_ handle: OpaquePointer?) {
    guard let handle else { return }
    Unmanaged<Pipeline>.fromOpaque(UnsafeRawPointer(handle)).release()
}

@_cdecl("trapline_process")
public func traplineProcess(
    _ handle: OpaquePointer?, _ input: UnsafePointer<UInt8>?, _ inputSize: Int, _ format: Int32,
    _ output: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, _ outputSize: UnsafeMutablePointer<Int>?,
    _ error: UnsafeMutablePointer<CChar>?, _ errorSize: Int
) -> Int32 {
    guard let pipeline = pipeline(handle), let output, let outputSize, input != nil || inputSize == 0 else {
        report("pipeline, output and output_size must not be NULL", error, errorSize)
        return argumentError
    }
    let payload: Pipeline.PayloadFormat
    switch format {
    case 0: payload = .protobuf(.traces)
    case 1: payload = .protobuf(.logs)
    case 2: payload = .json(.traces)
    case 3: payload = .json(.logs)
    case 4: payload = .protobuf(.metrics)
    case 5: payload = .json(.metrics)
    default:
        report("unknown format \(format)", error, errorSize)
        return argumentError
    }
    // The caller's bytes are read in place: the call is synchronous and keeps no reference.
    let result = pipeline.process(borrowing: UnsafeRawBufferPointer(start: input, count: inputSize), format: payload)
    output.pointee = nil
    outputSize.pointee = 0
    if !result.output.isEmpty, let buffer = malloc(result.output.count)?.assumingMemoryBound(to: UInt8.self) {
        result.output.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: $0.count) }
        output.pointee = buffer
        outputSize.pointee = result.output.count
    }
    let decoded = result.records.received - result.records.rejected
    if decoded == 0 && result.records.rejected > 0 {
        report(result.firstError ?? "the body cannot be decoded", error, errorSize)
        return undecodableError
    }
    report(result.firstError ?? "", error, errorSize)
    return ok
}

@_cdecl("trapline_buffer_free")
public func traplineBufferFree(_ buffer: UnsafeMutablePointer<UInt8>?) {
    free(buffer)
}

@_cdecl("trapline_counters_read")
public func traplineCountersRead(_ handle: OpaquePointer?, _ counters: UnsafeMutablePointer<UInt64>?) -> Int32 {
    guard let pipeline = pipeline(handle), let counters else { return argumentError }
    let records = pipeline.records
    counters[0] = UInt64(records.received)
    counters[1] = UInt64(records.forwarded)
    counters[2] = UInt64(records.filtered)
    counters[3] = UInt64(records.blocked)
    counters[4] = UInt64(records.rejected)
    return ok
}

@_cdecl("trapline_ter_read")
public func traplineTERRead(
    _ handle: OpaquePointer?, _ identified: UnsafeMutablePointer<UInt64>?, _ blocked: UnsafeMutablePointer<UInt64>?,
    _ ter: UnsafeMutablePointer<Double>?
) -> Int32 {
    guard let pipeline = pipeline(handle) else { return argumentError }
    let rate = pipeline.trapEscapeRate
    identified?.pointee = UInt64(rate.identified)
    blocked?.pointee = UInt64(rate.blocked)
    ter?.pointee = rate.value ?? .nan
    return ok
}
