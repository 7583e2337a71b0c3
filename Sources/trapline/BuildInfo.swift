import Foundation
@_spi(Plumbing) import Trapline

/// What `trapline --version` prints: the version and the commit the binary was built from.
///
/// `Scripts/package.sh` appends the commit to the stripped binary as a trailer (`strip` would
/// drop an ELF section it does not know, and Swift has no build-time constants from outside):
/// the binary's last bytes are `TRAPLINE_BUILD commit=<hex>` and a newline. A binary built
/// otherwise (`swift build`) says so instead of guessing.
enum BuildInfo {
    static let trailerMarker = "TRAPLINE_BUILD commit="

    /// `trapline 0.1.0 (commit 1a2b3c4…)`.
    static var versionLine: String {
        "trapline \(TraplineVersion.current) (\(commit.map { "commit \($0)" } ?? "commit unknown: not built by Scripts/package.sh"))"
    }

    /// The commit in the running binary's trailer, if it has one. Reads its last 128 bytes.
    static var commit: String? {
        guard let file = FileHandle(forReadingAtPath: "/proc/self/exe") else { return nil }
        defer { try? file.close() }
        guard let size = try? file.seekToEnd(), size > 128 else { return nil }
        try? file.seek(toOffset: size - 128)
        guard let tail = try? file.readToEnd() else { return nil }
        return commit(inTrailer: tail)
    }

    /// The commit of a trailer (`TRAPLINE_BUILD commit=<hex>\n` at the very end), or nil.
    static func commit(inTrailer bytes: Data) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.hasSuffix("\n"), let marker = text.range(of: trailerMarker, options: .backwards) else { return nil }
        let value = text[marker.upperBound...].dropLast()
        guard !value.isEmpty, value.count <= 64, value.allSatisfy({ $0.isHexDigit || $0 == "-" || $0.isLetter }) else {
            return nil
        }
        return String(value)
    }
}
