public import TraplineCore

/// What "agrees with libprotobuf-c" allows, shared by the differential tests and the
/// `differential` fuzz target (which links this file).
public enum OracleAgreement {
    /// Reasons Trapline may reject a record for that libprotobuf-c accepts: checks it does not
    /// make. It keeps strings as C strings, has no id-length or depth rules, reads on past the
    /// 10 bytes a varint may have, skips fields numbered 0 and cuts a 5-byte tag to 32 bits (upb
    /// rejects all three as corrupt, as Trapline does), and, like upb, reads a known field with
    /// the wrong wire type as an unknown field, where Trapline (like the Collector's generated
    /// decoders) calls it damage.
    public static let traplineOnlyReasons: Set<Rejection.Reason> = [
        .invalidUTF8, .invalidIDLength, .nestingTooDeep, .varintTooLong, .tagTooLong, .fieldNumberZero, .wrongWireType,
    ]

    /// Whether `bytes`, read as a protobuf message, hold a group (wire type 3 or 4) somewhere:
    /// libprotobuf-c rejects every group, even in a field it does not know, where upb and Trapline
    /// skip it as the wire format allows. Length-delimited fields that read as messages are
    /// searched too; without the schema, a string that happens to read as one counts as well.
    public static func containsGroup(_ bytes: [UInt8]) -> Bool {
        scan(bytes[...], depth: 0) == .group
    }

    enum Scan { case message, group, notAMessage }

    static func scan(_ bytes: ArraySlice<UInt8>, depth: Int) -> Scan {
        var position = bytes.startIndex
        func varint() -> UInt64? {
            var value: UInt64 = 0
            for shift in stride(from: 0, to: 70, by: 7) {
                guard position < bytes.endIndex else { return nil }
                let byte = bytes[position]
                position += 1
                value |= UInt64(byte & 0x7F) << UInt64(shift)
                if byte & 0x80 == 0 { return value }
            }
            return nil
        }
        while position < bytes.endIndex {
            guard let tag = varint(), tag >> 3 != 0 else { return .notAMessage }
            switch tag & 7 {
            case 0: guard varint() != nil else { return .notAMessage }
            case 1: position += 8
            case 5: position += 4
            case 2:
                guard let length = varint(), length <= UInt64(bytes.endIndex - position) else { return .notAMessage }
                let field = bytes[position..<position + Int(length)]
                position += Int(length)
                if depth < 100 && scan(field, depth: depth + 1) == .group { return .group }
            case 3, 4: return .group
            default: return .notAMessage
            }
            if position > bytes.endIndex { return .notAMessage }
        }
        return .message
    }
}
