import Glibc

/// An errno from the syscall layer.
public struct SystemErrno: Error, Equatable, Sendable {
    public let code: Int32
}

/// The one place that touches files: read(2) and readdir(3), EINTR retried
/// here, errors returned as errno values for the callers to name.
public enum FileReader {
    /// procfs files report size 0, so they are read to EOF; past this a file
    /// is not a proc text (numa_maps of a huge JVM stays far below it).
    static let maxBytes = 1 << 30
    static let chunkBytes = 64 * 1024

    /// The whole file, read with read(2) until it returns 0. A process that
    /// exits mid-read makes read fail with ESRCH or return early: the first
    /// is returned as an error, the second gives a short text that the
    /// parsers reject as truncated.
    /// With `limit`, at most that many bytes: the rest is never read (a
    /// command line can be 2 MiB, and only its start is wanted).
    public static func read(_ path: String, limit: Int? = nil) -> Result<[UInt8], SystemErrno> {
        var fd: Int32 = -1
        repeat {
            fd = path.withCString { open($0, O_RDONLY | O_CLOEXEC) }
        } while fd < 0 && errno == EINTR
        guard fd >= 0 else { return .failure(SystemErrno(code: errno)) }
        defer { close(fd) }
        return read(fd: fd, limit: limit)
    }

    /// An open file from where it stands to its end, or its next `limit`
    /// bytes: for a caller that checks the descriptor (fstat) before reading.
    public static func read(fd: Int32, limit: Int? = nil) -> Result<[UInt8], SystemErrno> {
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(chunkBytes, limit ?? chunkBytes))
        while true {
            let wanted = min(chunk.count, (limit ?? Int.max) - contents.count)
            if wanted <= 0 { break }
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, wanted) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(SystemErrno(code: errno))
            }
            if count == 0 { break }
            contents.append(contentsOf: chunk[0..<count])
            if contents.count > maxBytes { return .failure(SystemErrno(code: EFBIG)) }
        }
        return .success(contents)
    }

    /// The names in a folder, without "." and "..".
    static func list(_ path: String) -> Result<[String], SystemErrno> {
        guard let directory = path.withCString({ opendir($0) }) else {
            return .failure(SystemErrno(code: errno))
        }
        defer { closedir(directory) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 { return .failure(SystemErrno(code: errno)) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return .success(names)
    }

    static func exists(_ path: String) -> Bool {
        path.withCString { access($0, F_OK) } == 0
    }

    /// Pids and tids: the entries that are positive decimal numbers, sorted.
    static func numericNames(_ names: [String]) -> [Int32] {
        names.compactMap { name -> Int32? in
            guard let value = ProcText.decimal(Array(name.utf8)[...]), let id = Int32(exactly: value), id > 0
            else { return nil }
            return id
        }.sorted()
    }
}
