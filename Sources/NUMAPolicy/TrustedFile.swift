import Glibc
import NUMAProc

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
        public static var forThisProcess: Rule { geteuid() == 0 ? .rootOnly : .readable }
    }

    /// Why the file was not read.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The file's bytes, at most `limit` + 1 (so a caller can tell it was
    /// longer), or why it was refused.
    public static func read(_ path: String, rule: Rule, limit: Int) -> Result<[UInt8], Refusal> {
        var fd: Int32
        repeat { fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) } while fd < 0 && errno == EINTR
        guard fd >= 0 else {
            return .failure(Refusal(description: errno == ENOENT ? "no such file" : "cannot read it: \(String(cString: strerror(errno)))"))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(Refusal(description: "cannot stat it: \(String(cString: strerror(errno)))")) }
        // Not a FIFO, a device or a folder (a FIFO would block the daemon's reload).
        guard info.st_mode & S_IFMT == S_IFREG else { return .failure(Refusal(description: "it is not a regular file")) }
        if rule == .rootOnly, let problem = ownership(info) { return .failure(Refusal(description: problem)) }
        return FileReader.read(fd: fd, limit: limit + 1).mapError {
            Refusal(description: "cannot read it: \(String(cString: strerror($0.code)))")
        }
    }

    /// Owned by root, writable by no group or other; nil when so.
    public static func ownership(_ info: stat) -> String? {
        let why = "a policy or config decides what a root daemon does to every process, so only root may be able to change it"
        if info.st_uid != 0 {
            return "it is owned by uid \(info.st_uid), not root; \(why) (chown root:root it)"
        }
        let mode = info.st_mode & 0o7777
        if mode & (S_IWGRP | S_IWOTH) != 0 {
            let who = mode & S_IWOTH != 0 ? (mode & S_IWGRP != 0 ? "its group and others" : "others") : "its group"
            return "it is writable by \(who) (mode 0\(String(mode, radix: 8))); \(why) (chmod go-w it)"
        }
        return nil
    }
}
