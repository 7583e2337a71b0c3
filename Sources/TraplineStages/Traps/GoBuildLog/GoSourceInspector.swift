/// Answers what a build log cannot say by itself: whether a package has cgo files.
///
/// `build constraints exclude all Go files` reads the same for a cgo-only package built with cgo off and
/// for a package whose files are all for another GOARCH; only the package's sources tell them apart. In CI
/// the gate runs in the checkout that was built, so the directories the log names can be read.
public protocol GoSourceInspector: Sendable {
    /// Whether the package in `directory` has a file that builds only with cgo (`import "C"`, or a
    /// `//go:build cgo` constraint); `nil` when the directory cannot be read.
    ///
    /// - Parameter directory: as the log prints it: absolute, relative to the log's working directory
    ///   (already joined when the log names one), or starting with `$HOME`-style variables.
    ///
    /// Reads files; may allocate.
    func packageUsesCgo(directory: String) -> Bool?

    /// Whether a cgo file of the package in `directory` declares `identifier` at top level; `nil` when the
    /// directory cannot be read. Reads files; may allocate.
    func cgoFileDeclares(_ identifier: String, directory: String) -> Bool?
}

/// An inspector with no sources to read: every answer is "unknown", so rules that need the sources stay quiet.
public struct NoGoSources: GoSourceInspector {
    /// Makes the inspector. Allocates nothing.
    public init() {}
    /// Allocates nothing.
    public func packageUsesCgo(directory: String) -> Bool? { nil }
    /// Allocates nothing.
    public func cgoFileDeclares(_ identifier: String, directory: String) -> Bool? { nil }
}
