/// The pipeline used without `--config`: the text of `Pipelines/default.yaml`, compiled in so
/// the binary needs no file beside it. A test keeps the two identical.
@_spi(Plumbing) public enum DefaultPipeline {
    /// The file name diagnostics use for it.
    public static let fileName = "Pipelines/default.yaml (built in)"

    /// The YAML text.
    public static let yaml = """
        # The pipeline `trapline replay` uses without --config (compiled into the binary): what the
        # inputs hold goes to standard output unchanged, as length-prefixed OTLP protobuf, or to the
        # file named by --output. It runs no processor, so a replay copies what it reads (and accounts for
        # every record); Pipelines/demo.yaml and the other files there filter, transform, enrich and catch traps.
        receivers:
          stdin:

        exporters:
          stdout:
            format: proto

        service:
          pipelines:
            traces:
              receivers: [stdin]
              exporters: [stdout]
            logs:
              receivers: [stdin]
              exporters: [stdout]
            metrics:
              receivers: [stdin]
              exporters: [stdout]

        """
}
