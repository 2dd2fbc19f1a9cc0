/// A process as the kernel knows it for its lifetime: pid plus start time
/// (clock ticks after boot, /proc/pid/stat field 22). A reused pid has
/// another start time, so a check of both before acting never hits a stranger.
public struct ProcessIdentity: Hashable, Sendable, Codable, CustomStringConvertible {
    public var pid: Int32
    public var startTime: UInt64

    public init(pid: Int32, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }

    public var description: String { "\(pid)@\(startTime)" }
}
