/// A processor's decoded settings: one stage of a pipeline. The settings are the component's
/// own type (`FilterProcessorConfig` …), which knows how to check and build itself.
@_spi(Plumbing) public struct ProcessorConfig: Sendable {
    /// The settings.
    let settings: any ProcessorComponent

    init(_ settings: any ProcessorComponent) { self.settings = settings }

    /// The settings as a given component's type, or nil when the processor is another type.
    func settings<P: ProcessorComponent>(as type: P.Type) -> P? { settings as? P }
}
