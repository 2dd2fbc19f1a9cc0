import Foundation

/// The daemon's control socket (`<runtimeDirectory>/control.sock`, root
/// only): one request line per connection, the answer, then the daemon
/// closes. Text, so `socat - UNIX-CONNECT:/run/numabalance/control.sock`
/// works for a person too.
public enum ControlRequest: String, Sendable, CaseIterable {
    /// Human-readable status (what `numabalance status` prints).
    case status
    /// The same as JSON (`numabalance status --json`).
    case statusJSON = "status-json"
    /// Prometheus text exposition format.
    case metrics
    /// Reload config and policies now (as SIGHUP), answer a `ReloadReply`
    /// once the attempt is over.
    case reload

    public static let socketName = "control.sock"
}

/// The answer to `reload`: whether the new files are in force, and the
/// policy generation now active (it grows by one at every good reload).
public struct ReloadReply: Codable, Sendable, Hashable {
    public var ok: Bool
    public var generation: UInt64
    /// file:line:column errors of a refused reload (the old set stays).
    public var errors: [String]
    public var policyFiles: [String]

    public init(ok: Bool, generation: UInt64, errors: [String], policyFiles: [String]) {
        self.ok = ok
        self.generation = generation
        self.errors = errors
        self.policyFiles = policyFiles
    }
}
