extension Duration {
    /// The duration as seconds in a Double: rates, deadlines and reports
    /// work in seconds, and Duration keeps whole seconds and attoseconds apart.
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
