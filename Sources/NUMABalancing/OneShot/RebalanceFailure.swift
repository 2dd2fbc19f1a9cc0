/// Why rebalance could not even start acting: exits 1.
public struct RebalanceFailure: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
