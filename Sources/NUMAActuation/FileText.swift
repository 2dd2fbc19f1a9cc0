import Glibc

/// A small text file read whole (procfs and sysfs files report size 0, so it
/// is read to EOF); nil when it cannot be opened or read.
func readText(_ path: String) -> String? {
    var fd: Int32 = -1
    repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16 * 1024)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            return nil
        }
        if count == 0 { break }
        bytes.append(contentsOf: chunk[0..<count])
        if bytes.count > 64 << 20 { return nil }
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// The value of `key` in /proc/vmstat ("pgmigrate_success 1234").
func vmstatValue(_ key: String, root: String = "/proc") -> UInt64? {
    guard let text = readText(root + "/vmstat") else { return nil }
    for line in text.split(separator: "\n") {
        let parts = line.split(separator: " ")
        if parts.count == 2, parts[0] == key { return UInt64(parts[1]) }
    }
    return nil
}
