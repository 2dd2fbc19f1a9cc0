import Glibc

/// Symbolic links, read without following them further.
public enum FileLink {
    /// Where the link at `path` points (readlink(2)), as written in it:
    /// /proc/PID/exe gives the program's path ("/usr/bin/python3.12",
    /// with " (deleted)" when the file was replaced since).
    public static func target(of path: String) -> Result<String, SystemError> {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let capacity = buffer.count
        return Syscall.libc("readlink \(path)") {
            buffer.withUnsafeMutableBytes { raw in
                raw.baseAddress.map { readlink(path, $0.assumingMemoryBound(to: CChar.self), capacity) } ?? -1
            }
        }.map { String(decoding: buffer[0..<$0], as: UTF8.self) }
    }
}
