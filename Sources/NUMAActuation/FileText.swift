import NUMAProc
import NUMASystem

/// A small text file read whole (procfs and sysfs files report size 0, so it
/// is read to EOF); a failure when it cannot be opened or read, or is over
/// 64 MiB (EFBIG).
func readText(_ path: String) -> Result<String, SystemError> {
    let limit = 64 << 20
    return FileIO.read(path, limit: limit + 1).flatMap { bytes in
        bytes.count <= limit ? .success(String(decoding: bytes, as: UTF8.self))
            : .failure(SystemError("read \(path)", errno: Errno.tooBig))
    }
}

/// The value of `key` in /proc/vmstat ("pgmigrate_success 1234").
func vmstatValue(_ key: String, procfs: ProcFS) -> UInt64? {
    guard let text = try? procfs.readSystem("vmstat") else { return nil }
    for line in text.split(separator: "\n") {
        let parts = line.split(separator: " ")
        if parts.count == 2, parts[0] == key { return UInt64(parts[1]) }
    }
    return nil
}
