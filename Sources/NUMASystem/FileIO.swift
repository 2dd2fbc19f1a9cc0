import Glibc

/// How a file is opened; O_CLOEXEC always.
public struct OpenOptions: OptionSet, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let readOnly = OpenOptions([])
    public static let writeOnly = OpenOptions(rawValue: O_WRONLY)
    public static let readWrite = OpenOptions(rawValue: O_RDWR)
    public static let create = OpenOptions(rawValue: O_CREAT)
    /// With `create`: fail if the name exists (a planted file or link is never reused).
    public static let exclusive = OpenOptions(rawValue: O_EXCL)
    public static let truncate = OpenOptions(rawValue: O_TRUNC)
    public static let append = OpenOptions(rawValue: O_APPEND)
    /// A symbolic link as the last component fails with ELOOP, never followed.
    public static let noFollow = OpenOptions(rawValue: O_NOFOLLOW)
    public static let directory = OpenOptions(rawValue: O_DIRECTORY)
    /// A FIFO does not block the open.
    public static let nonBlocking = OpenOptions(rawValue: O_NONBLOCK)
}

/// The one place that touches files: open, read, write, replace and list,
/// EINTR retried here, failures returned as `SystemError`s naming the path.
public enum FileIO {
    /// procfs files report size 0, so they are read to EOF; past this a file
    /// is not a proc text (numa_maps of a huge JVM stays far below it).
    static let maxBytes = 1 << 30
    static let chunkBytes = 64 * 1024

    /// open(2) with O_CLOEXEC; `permissions` for a file it creates.
    public static func open(_ path: String, _ options: OpenOptions = .readOnly,
                            permissions: UInt32 = 0o600) -> Result<Int32, SystemError> {
        Syscall.libc("open \(path)") {
            Glibc.open(path, options.rawValue | O_CLOEXEC, mode_t(permissions))
        }
    }

    /// close(2); its error is not reported (the descriptor is gone either way).
    public static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    /// Runs `body` with the file open, then closes it.
    public static func withOpen<T>(_ path: String, _ options: OpenOptions = .readOnly, permissions: UInt32 = 0o600,
                                   _ body: (Int32) -> Result<T, SystemError>) -> Result<T, SystemError> {
        open(path, options, permissions: permissions).flatMap { fd in
            defer { close(fd) }
            return body(fd)
        }
    }

    /// The whole file, read with read(2) until it returns 0. A process that
    /// exits mid-read makes read fail with ESRCH or return early: the first
    /// is returned as an error, the second gives a short text that the
    /// parsers reject as truncated. With `limit`, at most that many bytes:
    /// the rest is never read (a command line can be 2 MiB, and only its
    /// start is wanted).
    public static func read(_ path: String, limit: Int? = nil,
                            _ options: OpenOptions = .readOnly) -> Result<[UInt8], SystemError> {
        withOpen(path, options) { fd in read(fd: fd, limit: limit, name: path) }
    }

    /// An open file from where it stands to its end, or its next `limit`
    /// bytes: for a caller that checks the descriptor (fstat) before reading.
    public static func read(fd: Int32, limit: Int? = nil, name: String = "a file") -> Result<[UInt8], SystemError> {
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(chunkBytes, limit ?? chunkBytes))
        while true {
            let wanted = min(chunk.count, (limit ?? Int.max) - contents.count)
            if wanted <= 0 { break }
            let result = Syscall.libc("read \(name)") { chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, wanted) } }
            guard case .success(let count) = result else { return result.map { _ in [] } }
            if count == 0 { break }
            contents.append(contentsOf: chunk[0..<count])
            if contents.count > maxBytes { return .failure(SystemError("read \(name)", errno: EFBIG)) }
        }
        return .success(contents)
    }

    /// One read(2) of at most `count` bytes (a socket, an eventfd, a sysctl).
    public static func readOnce(fd: Int32, count: Int, name: String = "a file") -> Result<[UInt8], SystemError> {
        var buffer = [UInt8](repeating: 0, count: count)
        return Syscall.libc("read \(name)") { buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, count) } }
            .map { Array(buffer[0..<$0]) }
    }

    /// pread(2): up to `count` bytes at `offset`, fewer at the end of the file.
    public static func read(fd: Int32, count: Int, at offset: Int64, name: String = "a file") -> Result<[UInt8], SystemError> {
        var buffer = [UInt8](repeating: 0, count: count)
        return Syscall.libc("pread \(name)") {
            buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
        }.map { Array(buffer[0..<$0]) }
    }

    /// Writes every byte, continuing after a short write.
    public static func writeAll(fd: Int32, _ bytes: [UInt8], name: String = "a file") -> Result<Void, SystemError> {
        var done = 0
        while done < bytes.count {
            let result = Syscall.libc("write \(name)") {
                bytes.withUnsafeBytes { raw in Glibc.write(fd, raw.baseAddress.map { $0 + done }, raw.count - done) }
            }
            guard case .success(let count) = result else { return result.map { _ in () } }
            done += count
        }
        return .success(())
    }

    /// Opens, writes every byte and closes (a sysctl takes its value in one write).
    public static func write(_ path: String, _ bytes: [UInt8], _ options: OpenOptions = [.writeOnly, .truncate]) -> Result<Void, SystemError> {
        withOpen(path, options) { writeAll(fd: $0, bytes, name: path) }
    }

    /// Replaces `path` so a reader sees the old bytes or the new, never a
    /// part: a fresh temporary file beside it (created with O_EXCL and
    /// O_NOFOLLOW: a leftover or a planted link is removed, never followed),
    /// written, fsynced, given `permissions`, renamed over the old, and the
    /// folder fsynced so the rename survives a crash.
    public static func replaceAtomically(_ path: String, with bytes: [UInt8], permissions: UInt32 = 0o600,
                                         temporarySuffix: String = ".partial") -> Result<Void, SystemError> {
        let partial = path + temporarySuffix
        _ = Glibc.unlink(partial)
        let written = withOpen(partial, [.writeOnly, .create, .exclusive, .noFollow], permissions: permissions) { fd in
            writeAll(fd: fd, bytes, name: partial)
                .flatMap { Syscall.libcCheck("fchmod \(partial)") { fchmod(fd, mode_t(permissions)) } }
                .flatMap { Syscall.libcCheck("fsync \(partial)") { fsync(fd) } }
        }.flatMap { rename(partial, to: path) }
        if case .failure = written { _ = Glibc.unlink(partial) }
        return written.map { syncDirectory(of: path) }
    }

    /// fsync of the folder holding `path`: makes a rename or unlink in it durable.
    public static func syncDirectory(of path: String) {
        let folder = path.lastIndex(of: "/").map { path[..<$0].isEmpty ? "/" : String(path[..<$0]) } ?? "."
        syncDirectory(folder)
    }

    /// fsync of a folder; best effort (a folder that cannot be opened is left).
    public static func syncDirectory(_ folder: String) {
        guard case .success(let fd) = open(folder, [.readOnly, .directory]) else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// fsync(2) of an open file.
    public static func sync(fd: Int32, name: String = "a file") -> Result<Void, SystemError> {
        Syscall.libcCheck("fsync \(name)") { fsync(fd) }
    }

    /// fchmod(2) of an open file (or socket): no path, so no link is followed.
    public static func setPermissions(fd: Int32, _ permissions: UInt32, name: String = "a file") -> Result<Void, SystemError> {
        Syscall.libcCheck("fchmod \(name)") { fchmod(fd, mode_t(permissions)) }
    }

    /// ftruncate(2).
    public static func truncate(fd: Int32, to size: Int64 = 0, name: String = "a file") -> Result<Void, SystemError> {
        Syscall.libcCheck("ftruncate \(name)") { ftruncate(fd, off_t(size)) }
    }

    /// rename(2).
    public static func rename(_ from: String, to: String) -> Result<Void, SystemError> {
        Syscall.libcCheck("rename \(from) to \(to)") { Glibc.rename(from, to) }
    }

    /// unlink(2); a file already gone is success when `missingIsFine`.
    public static func remove(_ path: String, missingIsFine: Bool = true) -> Result<Void, SystemError> {
        let result = Syscall.libcCheck("unlink \(path)") { unlink(path) }
        if case .failure(let error) = result, missingIsFine, error.errno == ENOENT { return .success(()) }
        return result
    }

    /// mkdir(2); an existing name is success when `existingIsFine` (check it with FileStatus).
    public static func makeDirectory(_ path: String, permissions: UInt32 = 0o755,
                                     existingIsFine: Bool = true) -> Result<Void, SystemError> {
        let result = Syscall.libcCheck("mkdir \(path)") { mkdir(path, mode_t(permissions)) }
        if case .failure(let error) = result, existingIsFine, error.errno == EEXIST { return .success(()) }
        return result
    }

    /// The names in a folder, without "." and "..".
    public static func list(_ path: String) -> Result<[String], SystemError> {
        guard let directory = opendir(path) else { return .failure(.last("opendir \(path)")) }
        defer { closedir(directory) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 { return .failure(.last("readdir \(path)")) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return .success(names)
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// flock(2): an exclusive lock without waiting; EWOULDBLOCK when another holds it.
    public static func lockExclusive(fd: Int32, name: String = "a file") -> Result<Void, SystemError> {
        Syscall.libcCheck("flock \(name)") { flock(fd, LOCK_EX | LOCK_NB) }
    }

    /// flock(2): an exclusive lock, waiting while another holds it (a
    /// journal's writers take turns rather than fail).
    public static func waitForExclusiveLock(fd: Int32, name: String = "a file") -> Result<Void, SystemError> {
        Syscall.libcCheck("flock \(name)") { flock(fd, LOCK_EX) }
    }

    /// Releases a flock(2).
    public static func unlock(fd: Int32) { _ = flock(fd, LOCK_UN) }
}
