import Foundation
import Glibc
import NUMAPolicy
import Synchronization

/// `metrics.listen`: Prometheus' text format over HTTP/1.0 on a loopback
/// address (the config refuses any other). Any local user can connect, so
/// no client may hold it (security review 2.5, 2.6): each connection is
/// served on its own thread, at most `maxClients` at once (more are closed
/// at once), with one deadline for the whole request and answer; a failed
/// accept(2) is logged and survived.
final class MetricsHTTPServer: Sendable {
    static let maxClients = 8
    static let requestSeconds = 2.0
    static let requestLimit = 16_384

    private let fd: Int32
    private let stopping = Atomic<Bool>(false)
    private let clients = Atomic<Int>(0)
    private let done = DispatchSemaphore(value: 0)

    init(address: ListenAddress, log: @escaping @Sendable (String) -> Void = { _ in },
         body: @escaping @Sendable () -> String) throws {
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
        guard bind(socketFD, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, listen(socketFD, 16) == 0 else {
            let text = String(cString: strerror(errno))
            close(socketFD)
            throw DaemonError("metrics.listen \(address): cannot listen: \(text)")
        }
        fd = socketFD
        let thread = Thread { [self] in
            var lastError: Int32 = 0
            while !stopping.load(ordering: .acquiring) {
                let client = accept(fd, nil, nil)
                if client < 0 {
                    let code = errno
                    if stopping.load(ordering: .acquiring) { break }
                    // Logged when it changes, not at every retry of an EMFILE storm.
                    if code != EINTR, code != lastError {
                        log("metrics endpoint: accept failed: \(String(cString: strerror(code))); still serving")
                    }
                    lastError = code
                    if AcceptFailure(errno: code) == .backOff { usleep(100_000) }
                    continue
                }
                lastError = 0
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                guard clients.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue <= Self.maxClients else {
                    clients.wrappingSubtract(1, ordering: .acquiringAndReleasing)
                    close(client)
                    continue
                }
                let worker = Thread { [self] in
                    Self.serve(client, body: body)
                    close(client)
                    clients.wrappingSubtract(1, ordering: .acquiringAndReleasing)
                }
                worker.name = "nb-metrics-client"
                worker.start()
            }
            done.signal()
        }
        thread.name = "nb-metrics"
        thread.start()
    }

    /// GET /metrics answers the exposition; anything else 404. The request
    /// is complete at its blank line, wherever that falls in what was read.
    static func serve(_ client: Int32, body: () -> String) {
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        guard let request = SocketRequest.read(client, seconds: requestSeconds, limit: requestLimit,
                                               complete: { $0.firstRange(of: end) != nil })
        else { return }
        let found = HTTPRequestLine.isMetricsRequest(request)
        let content = found ? body() : "not found: metrics are at /metrics\n"
        let head = "HTTP/1.0 \(found ? "200 OK" : "404 Not Found")\r\n"
            + "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            + "Content-Length: \(content.utf8.count)\r\nConnection: close\r\n\r\n"
        SocketRequest.send(client, Array((head + content).utf8), seconds: requestSeconds)
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        _ = done.wait(timeout: .now() + 2)
    }
}

/// The one HTTP request the metrics endpoint answers.
public enum HTTPRequestLine {
    /// Whether the request's first line is GET /metrics (or GET /).
    public static func isMetricsRequest(_ request: [UInt8]) -> Bool {
        let line = String(decoding: request, as: UTF8.self).split(separator: "\r\n").first ?? ""
        let parts = line.split(separator: " ")
        return parts.count >= 2 && parts[0] == "GET" && (parts[1] == "/metrics" || parts[1] == "/")
    }
}
