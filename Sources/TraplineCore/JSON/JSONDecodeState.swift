/// The mutable part of one JSON decode: where the reader is, what was lenient, and the first
/// problem of the record being read.
struct JSONDecodeState {
    var reader: JSONReader
    var leniency = JSONLeniency()
    /// A record-level problem: the JSON is well-formed but a value is bad. The record is read
    /// to its end (so the next one can be read) and then rejected.
    var problem: DecodeError?

    mutating func fail(_ error: DecodeError) {
        if problem == nil { problem = error }
    }
}
