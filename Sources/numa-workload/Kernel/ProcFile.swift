// Whole /proc files. Foundation's String(contentsOfFile:) stops after the
// first read() of a file whose size stat reports as 0, as /proc's do: one
// page of text (4,059 bytes of a 19,332-byte numa_maps, for a process with
// 64 threads' stacks and arenas), so the probe weighed only the first
// mappings. Read until end of file instead. (The daemon's readers do the
// same, but numa-workload is the lab's ruler and links none of the code it
// measures.)
import Glibc

enum ProcFile {
    /// The file's whole text, or nil when it cannot be opened or read
    /// (the process has exited).
    static func text(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
