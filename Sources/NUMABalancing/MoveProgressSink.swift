import NUMAActuation

/// Where a long move's progress goes while it lasts (a terminal's line for
/// `rebalance`; systemd's watchdog for the daemon).
public protocol MoveProgressSink: Sendable {
    func show(_ progress: MoveProgress)
    /// The move is over: clear what was shown.
    func finish()
}
