import NUMASystem

/// A config or policy file, checked and read through one descriptor, so what
/// is checked is what is read (a file swapped between a check by path and a
/// read by path was the window). What a root daemon loads decides what it
/// does to every process: then only root may be able to change the file.
public enum TrustedFile {
    public enum Rule: Sendable {
        /// Any regular file the caller can read (`policy validate` of a draft).
        case readable
        /// A regular file owned by root and writable by no one else.
        case rootOnly

        /// The rule for what this process loads as its own settings: root's
        /// files when it runs as root.
        public static var forThisProcess: Rule { Host.isRoot ? .rootOnly : .readable }
    }

    /// Why the file was not read.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The file's bytes, at most `limit` + 1 (so a caller can tell it was
    /// longer), or why it was refused.
    public static func read(_ path: String, rule: Rule, limit: Int) -> Result<[UInt8], Refusal> {
        // O_NONBLOCK: a FIFO planted in its place does not block the open.
        let fd: Int32
        switch FileIO.open(path, .nonBlocking) {
        case .success(let opened): fd = opened
        case .failure(let error) where error.errno == Errno.notFound:
            return .failure(Refusal(description: "no such file"))
        case .failure(let error):
            return .failure(Refusal(description: "cannot read it: \(Errno.text(error.errno))"))
        }
        defer { FileIO.close(fd) }
        let info: FileStatus
        switch FileStatus.of(fd: fd) {
        case .success(let status): info = status
        case .failure(let error): return .failure(Refusal(description: "cannot stat it: \(Errno.text(error.errno))"))
        }
        // Not a FIFO, a device or a folder (a FIFO would block the daemon's reload).
        guard info.kind == .regular else { return .failure(Refusal(description: "it is not a regular file")) }
        if rule == .rootOnly, let problem = ownership(info) { return .failure(Refusal(description: problem)) }
        return FileIO.read(fd: fd, limit: limit + 1, name: path).mapError {
            Refusal(description: "cannot read it: \(Errno.text($0.errno))")
        }
    }

    /// Owned by root, writable by no group or other; nil when so.
    public static func ownership(_ info: FileStatus) -> String? {
        let why = "a policy or config decides what a root daemon does to every process, so only root may be able to change it"
        if info.uid != 0 {
            return "it is owned by uid \(info.uid), not root; \(why) (chown root:root it)"
        }
        let mode = info.permissions
        let groupWrite: UInt32 = 0o020, otherWrite: UInt32 = 0o002
        if mode & (groupWrite | otherWrite) != 0 {
            let who = mode & otherWrite != 0 ? (mode & groupWrite != 0 ? "its group and others" : "others") : "its group"
            return "it is writable by \(who) (mode 0\(String(mode, radix: 8))); \(why) (chmod go-w it)"
        }
        return nil
    }
}
