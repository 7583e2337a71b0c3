/// A known failure pattern, named by the id reports and metrics use (`cache_pollution`, …).
///
/// A struct rather than an enum so that rule packs can name classes of their own.
public struct TrapClass: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The id, snake_case.
    public let rawValue: String

    /// Makes a class from its id. Allocates nothing.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// A damaged or foreign-target build-cache entry, or a stale package index, reached the compiler or linker.
    public static let cachePollution = TrapClass(rawValue: "cache_pollution")
    /// A Go declaration without a body has no assembly for the target, or the target's assembly lacks the symbol.
    public static let asmStubMissing = TrapClass(rawValue: "asm_stub_missing")
    /// GOARM was set for a GOARCH other than arm, or to a value Go 1.23+ silently replaces by 7.
    public static let goarmIgnored = TrapClass(rawValue: "goarm_ignored")
    /// cgo is off because the build is cross-compiled or finds no C compiler, and CGO_ENABLED was never set.
    public static let cgoImplicitlyDisabled = TrapClass(rawValue: "cgo_implicitly_disabled")

    /// The classes of the built-in `go-crossbuild` pack, in report order.
    public static let goCrossBuild: [TrapClass] = [
        .cachePollution, .asmStubMissing, .goarmIgnored, .cgoImplicitlyDisabled,
    ]

    public var description: String { rawValue }

    /// Allocates nothing.
    public static func < (lhs: TrapClass, rhs: TrapClass) -> Bool { lhs.rawValue < rhs.rawValue }
}
