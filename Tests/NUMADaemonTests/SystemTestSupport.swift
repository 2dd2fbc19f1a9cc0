import Foundation
import Glibc

/// Temporary folders and raw sockets for the daemon's system tests.
enum SystemTestFiles {
    /// Tests/NUMADaemonTests
    static let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
    /// The repository root.
    static let root = URL(fileURLWithPath: testsFolder).deletingLastPathComponent().deletingLastPathComponent().path

    /// A new empty folder under /tmp (short: socket paths are at most 107 bytes).
    static func temporaryFolder() -> String {
        var template = Array("/tmp/nb-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp: \(String(cString: strerror(errno)))")
        return String(cString: made!)
    }

    /// A product built next to this test binary (`swift build --build-tests` builds them all), when there is one.
    static func builtBinary(_ name: String) -> String? {
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let candidate = URL(fileURLWithPath: exe).deletingLastPathComponent().path + "/" + name
        return access(candidate, X_OK) == 0 ? candidate : nil
    }

    /// Runs a program from the repository root: its exit status and its
    /// standard output and error together.
    static func run(_ binary: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    static func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

    static func text(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    /// st_mode (type and permission bits), nil when missing.
    static func mode(_ path: String) -> mode_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode : nil
    }

    /// The permission bits alone.
    static func permissions(_ path: String) -> mode_t? { mode(path).map { $0 & 0o7777 } }
}

/// Raw AF_UNIX sockets: a test's own end of what the daemon talks to.
enum SystemTestSockets {
    /// An AF_UNIX address for a path, or for an abstract name given with a leading NUL.
    static func unixAddress(_ name: [UInt8]) -> (storage: sockaddr_un, length: socklen_t) {
        var storage = sockaddr_un()
        storage.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            raw.copyBytes(from: name)
            if name.first != 0 { raw[name.count] = 0 }
        }
        let offset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        return (storage, socklen_t(offset + name.count + (name.first == 0 ? 0 : 1)))
    }

    /// A socket of `type` bound to `name` (see unixAddress), with a 2 s receive timeout.
    static func boundSocket(_ name: [UInt8], type: Int32) -> Int32 {
        let fd = socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        precondition(fd >= 0)
        var (storage, length) = unixAddress(name)
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        precondition(rc == 0, "bind: \(String(cString: strerror(errno)))")
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Connects a stream socket to `path`, sends `text` and reads until the other side closes.
    static func rawExchange(path: String, send text: String?, timeoutSeconds: Int = 5) -> String? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var (storage, length) = unixAddress(Array(path.utf8))
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        guard rc == 0 else { return nil }
        if let text {
            let bytes = Array(text.utf8)
            guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else { return nil }
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { return nil }
            if n == 0 { break }
            answer += buffer[0..<n]
        }
        return String(decoding: answer, as: UTF8.self)
    }
}
