import Glibc

/// A file of a name no one else has, made beside the file it is to replace
/// (write, fsync, rename over). `FileIO.replaceAtomically` uses one fixed
/// name per target, which two commands installing the same file at once
/// would share; mkstemp(3) gives each its own.
public enum TemporaryFile {
    /// mkstemp(3): a new file named `prefix` and six random characters,
    /// created with O_EXCL and mode 0600 (never an existing file or link).
    /// Returns its descriptor and its path.
    public static func create(prefix: String) -> Result<(fd: Int32, path: String), SystemError> {
        var template = Array((prefix + "XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { mkstemp($0) } ?? -1
        }
        guard fd >= 0 else { return .failure(.last("mkstemp \(prefix)XXXXXX")) }
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return .success((fd, path))
    }
}
