import Glibc
import NUMAProc

/// A small text file read whole (procfs and sysfs files report size 0, so it
/// is read to EOF, by NUMAProc's FileReader); nil when it cannot be opened or
/// read, or is over 64 MiB (errno tells why).
func readText(_ path: String) -> String? {
    let limit = 64 << 20
    switch FileReader.read(path, limit: limit + 1) {
    case .success(let bytes) where bytes.count <= limit:
        return String(decoding: bytes, as: UTF8.self)
    case .success:
        errno = EFBIG
        return nil
    case .failure(let error):
        errno = error.code
        return nil
    }
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
