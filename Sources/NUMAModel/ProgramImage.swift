/// The program a process runs, as far as acting on it is concerned: its
/// effective uid and its executable's device and inode. An exec keeps the
/// pid and the start time (the identity), but not these: a process that
/// runs a setuid program after it was sampled is another principal, whose
/// placement the sample never judged (security review 4.2).
public struct ProgramImage: Hashable, Sendable, Codable, CustomStringConvertible {
    public var euid: UInt32
    /// st_dev and st_ino of /proc/PID/exe's target.
    public var device: UInt64
    public var inode: UInt64

    public init(euid: UInt32, device: UInt64, inode: UInt64) {
        self.euid = euid
        self.device = device
        self.inode = inode
    }

    public var description: String { "euid \(euid), executable \(device):\(inode)" }
}
