import Yams

/// YAML text to Yams's node tree, the one way Trapline reads YAML (pipeline files, trap
/// definitions, pipeline tests).
///
/// Each argument is said outright because Yams's defaults cost start-up for nothing here: its
/// default resolver compiles regular expressions (ICU) to type scalars the decoders read as text
/// anyway (a tenth of `trapline replay`'s start-up on an empty input), its default encoding reads
/// the whole process environment (for `YAMS_DEFAULT_ENCODING`) at every load, and its default
/// constructor builds three tables of closures that composing a node tree never calls (those two,
/// 1.2M of the 46M instructions).
enum YAMLComposer {
    /// The single document in `text`, nil when it has none.
    ///
    /// - Throws: Yams's `YamlError` (a syntax error, duplicate keys, more than one document).
    static func compose(_ text: String) throws -> Node? {
        try Yams.compose(yaml: text, .basic, Constructor([:], [:], [:]), .utf8)
    }
}
