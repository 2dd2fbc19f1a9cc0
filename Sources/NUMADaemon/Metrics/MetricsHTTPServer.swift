import Foundation
import Glibc
import NUMAPolicy
import Synchronization

/// `metrics.listen`: Prometheus' text format over HTTP/1.0 on a loopback
/// address (the config refuses any other). One thread, one connection at a
/// time: a scraper every few seconds is the whole load.
final class MetricsHTTPServer: Sendable {
    private let fd: Int32
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    init(address: ListenAddress, body: @escaping @Sendable () -> String) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let host = address.host == "localhost" ? "127.0.0.1" : address.host
        guard getaddrinfo(host, String(address.port), &hints, &result) == 0, let info = result else {
            throw DaemonError("metrics.listen \(address): cannot resolve the address")
        }
        defer { freeaddrinfo(result) }
        let socketFD = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else { throw DaemonError("metrics.listen: socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(socketFD, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(socketFD, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, listen(socketFD, 8) == 0 else {
            let text = String(cString: strerror(errno))
            close(socketFD)
            throw DaemonError("metrics.listen \(address): cannot listen: \(text)")
        }
        fd = socketFD
        let thread = Thread { [self] in
            while !stopping.load(ordering: .acquiring) {
                let client = accept(fd, nil, nil)
                if client < 0 { if errno == EINTR { continue } else { break } }
                Self.serve(client, body: body)
                close(client)
            }
            done.signal()
        }
        thread.name = "nb-metrics"
        thread.start()
    }

    /// GET /metrics answers the exposition; anything else 404.
    private static func serve(_ client: Int32, body: () -> String) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while request.count < 16_384 {
            let n = buffer.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            request += buffer[0..<n]
            if request.count >= 4, String(decoding: request.suffix(4), as: UTF8.self) == "\r\n\r\n" { break }
        }
        let line = String(decoding: request, as: UTF8.self).split(separator: "\r\n").first ?? ""
        let parts = line.split(separator: " ")
        let found = parts.count >= 2 && parts[0] == "GET" && (parts[1] == "/metrics" || parts[1] == "/")
        let content = found ? body() : "not found: metrics are at /metrics\n"
        let head = "HTTP/1.0 \(found ? "200 OK" : "404 Not Found")\r\n"
            + "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            + "Content-Length: \(content.utf8.count)\r\nConnection: close\r\n\r\n"
        let bytes = Array((head + content).utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            offset += n
        }
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        _ = done.wait(timeout: .now() + 2)
    }
}
