import Foundation
import NUMAPolicy
import NUMASystem
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
        let host = address.host == "localhost" ? "127.0.0.1" : address.host
        let socketFD: Int32
        switch TCPListener.listen(host: host, port: Int(address.port)) {
        case .success(let listening): socketFD = listening
        case .failure(.unresolved): throw DaemonError("metrics.listen \(address): cannot resolve the address")
        case .failure(.socket(let error)):
            throw DaemonError("metrics.listen: socket: \(Errno.message(error.errno))", cause: error)
        case .failure(.listen(let error)):
            throw DaemonError("metrics.listen \(address): cannot listen: \(Errno.message(error.errno))", cause: error)
        }
        fd = socketFD
        let thread = Thread { [self] in
            Host.nameThisThread("nb-metrics")
            var lastError: Int32 = 0
            serving: while !stopping.load(ordering: .acquiring) {
                let client: Int32
                switch StreamSocket.accept(fd) {
                case .success(let accepted): client = accepted
                case .failure(let error):
                    if stopping.load(ordering: .acquiring) { break serving }
                    // Logged when it changes, not at every retry of an EMFILE storm.
                    if error.errno != lastError {
                        log("metrics endpoint: accept failed: \(Errno.message(error.errno)); still serving")
                    }
                    lastError = error.errno
                    Clock.sleep(seconds: AcceptFailure(errno: error.errno).pauseSeconds)
                    continue
                }
                lastError = 0
                guard clients.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue <= Self.maxClients else {
                    clients.wrappingSubtract(1, ordering: .acquiringAndReleasing)
                    FileIO.close(client)
                    continue
                }
                let worker = Thread { [self] in
                    Host.nameThisThread("nb-metrics-cli")
                    Self.serve(client, body: body)
                    FileIO.close(client)
                    clients.wrappingSubtract(1, ordering: .acquiringAndReleasing)
                }
                worker.start()
            }
            done.signal()
        }
        thread.start()
    }

    /// GET /metrics answers the exposition; anything else 404. The request
    /// is complete at its blank line, wherever that falls in what was read.
    static func serve(_ client: Int32, body: () -> String) {
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        guard let request = StreamSocket.receive(client, limit: requestLimit,
                                                 until: Clock.monotonicSeconds() + requestSeconds,
                                                 complete: { $0.firstRange(of: end) != nil })
        else { return }
        let found = HTTPRequestLine.isMetricsRequest(request)
        let content = found ? body() : "not found: metrics are at /metrics\n"
        let head = "HTTP/1.0 \(found ? "200 OK" : "404 Not Found")\r\n"
            + "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            + "Content-Length: \(content.utf8.count)\r\nConnection: close\r\n\r\n"
        StreamSocket.sendAll(client, Array((head + content).utf8), until: Clock.monotonicSeconds() + requestSeconds)
    }

    /// Stops once: a second call (the service's stop, then the start-up's
    /// defer) must not close the descriptor again, which may be another's by then.
    func stop() {
        guard stopping.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        StreamSocket.shutdown(fd)
        FileIO.close(fd)
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
