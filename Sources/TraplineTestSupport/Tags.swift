public import Testing

extension Tag {
    /// Tests that launch processes (the CLI, Python, gzip, servers) and take seconds. Tagged
    /// for test plans and IDEs; from the command line the fast ones are the targets other than
    /// `TraplineCLITests` (`swift test --skip TraplineCLITests`).
    @Tag public static var slow: Self
}
