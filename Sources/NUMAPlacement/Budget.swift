/// The migration budget: a token bucket in bytes. It fills at the MB/s rate
/// up to a burst of `burstSeconds` worth; a move is planned only if the
/// bucket holds its bytes (or, for a move larger than the burst, is full).
/// Time is an input, never read.
public struct MigrationBudget: Hashable, Sendable, Codable {
    public private(set) var tokens: Double
    public private(set) var lastRefill: Double?
    public let bytesPerSecond: Double
    public let burstSeconds: Double

    public init(bytesPerSecond: Double, burstSeconds: Double) {
        self.bytesPerSecond = max(0, bytesPerSecond)
        self.burstSeconds = max(0, burstSeconds)
        tokens = self.bytesPerSecond * self.burstSeconds
    }

    public var capacity: Double { bytesPerSecond * burstSeconds }

    /// Adds what the elapsed time earned, up to the burst. A clock that went
    /// back earns nothing.
    public mutating func refill(now: Double) {
        if let last = lastRefill, now > last {
            tokens = min(capacity, tokens + (now - last) * bytesPerSecond)
        }
        if lastRefill.map({ now > $0 }) ?? true { lastRefill = now }
    }

    /// Takes `bytes` if the bucket holds them. A move larger than the whole
    /// burst is taken from a full bucket, leaving a debt that the rate pays
    /// back before anything else moves (else it could never move at all; the
    /// actuator then paces it in batches of about a second).
    public mutating func spend(_ bytes: UInt64) -> Bool {
        let amount = Double(bytes)
        let full = tokens >= capacity && capacity > 0
        guard amount <= tokens || full else { return false }
        tokens -= amount
        return true
    }

    /// Gives back what a move planned but not made took (up to the burst).
    public mutating func refund(_ bytes: UInt64) {
        tokens = min(capacity, tokens + Double(bytes))
    }

    /// Seconds a move of `bytes` takes at the budget's rate.
    public func seconds(for bytes: UInt64) -> Double {
        bytesPerSecond > 0 ? Double(bytes) / bytesPerSecond : .infinity
    }
}
