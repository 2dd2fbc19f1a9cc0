import Glibc

/// What stat(2) says of a file: its kind, permission bits, owner and identity.
public struct FileStatus: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case regular, directory, symbolicLink, fifo, socket, other }

    public var kind: Kind
    /// The permission bits (mode & 07777).
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64

    init(_ info: stat) {
        switch info.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symbolicLink
        case S_IFIFO: kind = .fifo
        case S_IFSOCK: kind = .socket
        default: kind = .other
        }
        permissions = UInt32(info.st_mode & 0o7777)
        uid = info.st_uid
        gid = info.st_gid
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
    }

    /// Writable by its group or by others.
    public var writableByOthers: Bool { permissions & 0o022 != 0 }

    /// stat(2), or lstat(2) with `followLinks: false` (the link itself).
    public static func of(_ path: String, followLinks: Bool = true) -> Result<FileStatus, SystemError> {
        var info = stat()
        return Syscall.libcCheck("\(followLinks ? "stat" : "lstat") \(path)") {
            followLinks ? stat(path, &info) : lstat(path, &info)
        }.map { FileStatus(info) }
    }

    /// fstat(2) of an open descriptor: what was opened, not what the path names now.
    public static func of(fd: Int32) -> Result<FileStatus, SystemError> {
        var info = stat()
        return Syscall.libcCheck("fstat") { fstat(fd, &info) }.map { FileStatus(info) }
    }
}
