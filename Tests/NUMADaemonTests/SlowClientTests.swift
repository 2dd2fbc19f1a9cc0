import Foundation
import Glibc
import NUMAPolicy
import Synchronization
import Testing
@testable import NUMADaemon

/// Issue 15, point 9 (security review 2.2, 2.5, 2.6): a client that sends a
/// byte now and then held the control socket and the metrics endpoint for
/// as long as it liked (a timeout per read, one client at a time).
@Suite struct SlowClientTests {
    /// A connected socket that sends one byte of `text` every 300 ms, never
    /// ending its request, until stopped.
    final class Dribbler: Sendable {
        let fd: Int32
        let stopped = Atomic<Bool>(false)
        let done = DispatchSemaphore(value: 0)

        init(fd: Int32, text: String) {
            self.fd = fd
            let bytes = Array(text.utf8)
            Thread { [self] in
                var index = 0
                while !stopped.load(ordering: .acquiring) {
                    var byte = bytes[index % bytes.count]
                    if send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) < 0 { break }
                    index += 1
                    usleep(300_000)
                }
                done.signal()
            }.start()
        }

        func stop() {
            stopped.store(true, ordering: .releasing)
            done.wait()
            close(fd)
        }
    }

    static func connectUnix(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var (storage, length) = SystemTestSockets.unixAddress(Array(path.utf8))
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        try #require(rc == 0, "connect: errno \(errno)")
        return fd
    }

    static func connectTCP(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(rc == 0, "connect: errno \(errno)")
        return fd
    }

    /// Everything the server sends until it closes (5 s at most).
    static func exchange(_ fd: Int32, _ text: String) -> String {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            answer += buffer[0..<n]
        }
        close(fd)
        return String(decoding: answer, as: UTF8.self)
    }

    @Test("a client dribbling its request line cannot keep `status` waiting past the 2 s deadline")
    func controlSocketDeadline() throws {
        let folder = SystemTestFiles.temporaryFolder()
        defer { SystemTestFiles.remove(folder) }
        let server = ControlServer(runtimeDirectory: folder, handler: ControlServerTests.handler)
        try server.start()
        defer { server.stop() }
        let dribbler = Dribbler(fd: try Self.connectUnix(server.socketPath), text: "statu")
        defer { dribbler.stop() }
        usleep(200_000)   // served first: the server is reading its bytes
        let start = ContinuousClock.now
        let answer = try ControlClient(socketPath: server.socketPath, timeoutSeconds: 10).send(.status)
        let waited = ContinuousClock.now - start
        #expect(answer == "numabalance: running\n")
        // The dribbler's whole request had 2 s; ours waited out the rest of it.
        #expect(waited < .milliseconds(2800), "status waited \(waited)")
    }

    @Test("the metrics endpoint answers a scrape at once while clients dribble, and survives them")
    func metricsEndpointDeadline() throws {
        let port = UInt16(20_000 + getpid() % 20_000)
        let server = try MetricsHTTPServer(address: ListenAddress(host: "127.0.0.1", port: port)) { "numabalance_up 1\n" }
        defer { server.stop() }
        let dribblers = try (0..<3).map { _ in Dribbler(fd: try Self.connectTCP(port: port), text: "GET /metrics HTTP/1.0\r\n") }
        defer { dribblers.forEach { $0.stop() } }
        usleep(200_000)
        let start = ContinuousClock.now
        let answer = Self.exchange(try Self.connectTCP(port: port), "GET /metrics HTTP/1.0\r\n\r\n")
        #expect(ContinuousClock.now - start < .milliseconds(1000), "the scrape waited for the dribblers")
        #expect(answer.hasPrefix("HTTP/1.0 200 OK") && answer.hasSuffix("numabalance_up 1\n"), "\(answer)")
        // A request whose blank line is followed by more bytes is complete too.
        let early = Self.exchange(try Self.connectTCP(port: port), "GET /metrics HTTP/1.0\r\n\r\nextra")
        #expect(early.hasPrefix("HTTP/1.0 200 OK"), "\(early)")
    }

    @Test("accept errors: short of descriptors or memory backs off; anything else retries; none stops the server")
    func acceptErrors() {
        #expect(AcceptFailure(errno: EMFILE) == .backOff)
        #expect(AcceptFailure(errno: ENFILE) == .backOff)
        #expect(AcceptFailure(errno: ENOBUFS) == .backOff)
        #expect(AcceptFailure(errno: ECONNABORTED) == .retry)
        #expect(AcceptFailure(errno: EPROTO) == .retry)
    }
}
