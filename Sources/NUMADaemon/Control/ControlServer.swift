import Foundation
import NUMAProc
import NUMASystem
import Synchronization

/// Why the control socket could not be set up.
public struct ControlServerError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// The failed system call behind it, when there was one.
    public var cause: SystemError?
    public init(_ description: String, cause: SystemError? = nil) {
        self.description = description
        self.cause = cause
    }
}

/// The daemon's side of the control socket (see `ControlRequest`): a
/// root-only (0600) AF_UNIX stream socket served by one dedicated thread,
/// one connection at a time. Each connection sends one line, gets the
/// handler's answer, and is closed.
///
/// The handler runs on the server thread; a slow one (a reload) delays the
/// next connection, which waits in the listen backlog, so it must not wait
/// for anything that waits for the control socket.
public final class ControlServer: Sendable {
    public typealias Handler = @Sendable (ControlRequest) -> String

    public let socketPath: String
    /// How long a client may take to send its line.
    public static let requestTimeoutSeconds = 2

    private let handler: Handler
    private let state = Mutex(State())

    private struct State {
        var loop: ControlServerLoop?
        var thread: PinnedThread?
        /// The socket file we bound (device, inode), so stop() never
        /// removes a file that is not ours any more.
        var boundFile: (dev: UInt64, ino: UInt64)?
    }

    public convenience init(runtimeDirectory: String, handler: @escaping Handler) {
        self.init(socketPath: runtimeDirectory + "/" + ControlRequest.socketName, handler: handler)
    }

    public init(socketPath: String, handler: @escaping Handler) {
        self.socketPath = socketPath
        self.handler = handler
    }

    deinit { stop() }

    /// Creates the folder (0755) when missing, clears a stale socket, binds
    /// the socket (0600), listens, and starts the serving thread.
    public func start() throws(ControlServerError) {
        guard state.withLock({ $0.loop == nil }) else { return }
        try makeDirectory()
        try removeStaleSocket()
        guard let address = UnixSocket.address(socketPath) else {
            throw ControlServerError("socket path \(socketPath) is too long (\(socketPath.utf8.count) bytes; "
                + "at most \(UnixSocket.maxPathBytes)): set a shorter runtimeDirectory in the config")
        }
        let fd: Int32
        switch UnixSocket.stream() {
        case .success(let opened): fd = opened
        case .failure(let error):
            throw ControlServerError("socket(AF_UNIX): \(Errno.message(error.errno))", cause: error)
        }
        // Linux creates the socket file with the socket inode's mode (less
        // the umask), so it is never more open than 0600, not even briefly.
        // No chmod of the path after bind: that follows a symlink someone
        // could put there (security review 2.3). The umask is left alone:
        // it is the whole process's.
        _ = FileIO.setPermissions(fd: fd, 0o600, name: socketPath)
        func fail(_ what: String, _ error: SystemError) -> ControlServerError {
            FileIO.close(fd)
            return ControlServerError("cannot \(what) \(socketPath): \(Errno.message(error.errno))", cause: error)
        }
        if case .failure(let error) = UnixSocket.bind(fd, to: address, name: socketPath) { throw fail("bind", error) }
        let bound = (try? FileStatus.of(socketPath, followLinks: false).get()).map { (dev: $0.device, ino: $0.inode) }
        if case .failure(let error) = StreamSocket.listen(fd, backlog: 16) {
            let failure = fail("listen on", error)
            _ = FileIO.remove(socketPath)
            throw failure
        }
        let wake: Int32
        switch WakeUp.make() {
        case .success(let made): wake = made
        case .failure(let error):
            FileIO.close(fd)
            _ = FileIO.remove(socketPath)
            throw ControlServerError("cannot create an eventfd for the control server: \(Errno.message(error.errno))",
                                     cause: error)
        }
        let loop = ControlServerLoop(listenFD: fd, wakeFD: wake, handler: handler)
        let thread: PinnedThread
        do throws(SystemError) {
            thread = try PinnedThread(name: "nb-control", cpus: nil)
            try thread.start()
        } catch {
            loop.closeDescriptors()
            _ = FileIO.remove(socketPath)
            throw ControlServerError("cannot start the control server thread: \(Errno.message(error.errno))",
                                     cause: error)
        }
        thread.submit { loop.run() }
        state.withLock {
            $0.loop = loop
            $0.thread = thread
            $0.boundFile = bound
        }
    }

    /// Stops accepting, waits for the connection in hand to finish, and
    /// removes the socket file. Safe to call more than once; not from the
    /// handler (it would wait for itself).
    public func stop() {
        let (loop, thread, bound) = state.withLock { state in
            defer { state = State() }
            return (state.loop, state.thread, state.boundFile)
        }
        guard let loop else { return }
        loop.wake()
        thread?.stop()
        loop.closeDescriptors()
        if let bound, let now = try? FileStatus.of(socketPath).get(), now.device == bound.dev, now.inode == bound.ino {
            _ = FileIO.remove(socketPath)
        }
    }

    /// True between start() and stop().
    public var isRunning: Bool { state.withLock { $0.loop != nil } }

    /// The answer to a request line that names no request.
    public static func unknownRequestAnswer(_ line: String) -> String {
        let known = ControlRequest.allCases.map(\.rawValue).joined(separator: ", ")
        return "error: unknown request '\(line)'; known: \(known)\n"
    }

    /// The runtime folder, created 0755 when missing, must be one of our own
    /// (OwnFolder): in a folder others can write, the socket could be
    /// swapped or a listening socket planted to keep the daemon from starting.
    private func makeDirectory() throws(ControlServerError) {
        let directory = (socketPath as NSString).deletingLastPathComponent
        guard !directory.isEmpty else { return }
        if let problem = OwnFolder.prepare(directory, mode: 0o755) {
            throw ControlServerError("cannot use the runtime folder: \(problem); "
                + "set runtimeDirectory in the config to a folder of root's")
        }
    }

    /// A socket file nothing answers on is left by a daemon that died; any
    /// other file, or a socket someone listens on, is not ours to remove.
    private func removeStaleSocket() throws(ControlServerError) {
        guard let found = try? FileStatus.of(socketPath, followLinks: false).get() else { return }
        guard found.kind == .socket else {
            throw ControlServerError("\(socketPath) exists and is not a socket; move it away")
        }
        let probe: Int32
        switch UnixSocket.stream() {
        case .success(let opened): probe = opened
        case .failure(let error):
            throw ControlServerError("socket(AF_UNIX): \(Errno.message(error.errno))", cause: error)
        }
        defer { FileIO.close(probe) }
        guard let address = UnixSocket.address(socketPath) else { return }
        switch UnixSocket.connect(probe, to: address, name: socketPath) {
        case .success:
            throw ControlServerError("a daemon already listens on \(socketPath); stop it first "
                + "(systemctl stop numabalance), or set another runtimeDirectory")
        case .failure(let error) where error.errno != Errno.connectionRefused:
            throw ControlServerError("cannot tell whether a daemon listens on \(socketPath): "
                + "\(Errno.message(error.errno))", cause: error)
        case .failure: break
        }
        if case .failure(let error) = FileIO.remove(socketPath, missingIsFine: true) {
            throw ControlServerError("cannot remove the stale socket \(socketPath): \(Errno.message(error.errno))",
                                     cause: error)
        }
    }
}

/// The serving loop's state: the listening socket, the eventfd that stop()
/// writes to, and the handler. Runs as the one job of the server's thread.
private final class ControlServerLoop: Sendable {
    let listenFD: Int32
    let wakeFD: Int32
    let handler: ControlServer.Handler

    init(listenFD: Int32, wakeFD: Int32, handler: @escaping ControlServer.Handler) {
        self.listenFD = listenFD
        self.wakeFD = wakeFD
        self.handler = handler
    }

    func wake() { WakeUp.signal(wakeFD) }

    func closeDescriptors() {
        FileIO.close(listenFD)
        FileIO.close(wakeFD)
    }

    /// Sleeps in poll(2) on the listening socket and the eventfd; serves
    /// connections one by one until woken.
    func run() {
        while true {
            guard case .success(let found) = Poll.wait([listenFD, wakeFD], for: .readable) else { return }
            if !found[1].isEmpty { return }
            guard found[0].contains(.readable) else { continue }
            switch StreamSocket.accept(listenFD) {
            case .success(let connection):
                serve(connection)
                FileIO.close(connection)
            case .failure(let error):
                Clock.sleep(seconds: AcceptFailure(errno: error.errno).pauseSeconds)
            }
        }
    }

    private func serve(_ fd: Int32) {
        let seconds = Double(ControlServer.requestTimeoutSeconds)
        guard let line = readLine(fd, seconds: seconds) else {
            reply(fd, "error: no request line within \(ControlServer.requestTimeoutSeconds) s\n")
            return
        }
        guard let request = ControlRequest(rawValue: line) else {
            reply(fd, ControlServer.unknownRequestAnswer(line))
            return
        }
        reply(fd, handler(request))
    }

    /// The first line (without its newline and surrounding blanks), or nil
    /// when none arrived within `seconds` in all. A line is at most 1 KiB.
    private func readLine(_ fd: Int32, seconds: Double) -> String? {
        guard let bytes = StreamSocket.receive(fd, limit: 1024, until: Clock.monotonicSeconds() + seconds,
                                               complete: { $0.contains(UInt8(ascii: "\n")) })
        else { return nil }
        return ControlLine.text(bytes)
    }

    /// A client that stops reading gets the same deadline as for its request.
    private func reply(_ fd: Int32, _ answer: String) {
        StreamSocket.sendAll(fd, Array(answer.utf8),
                             until: Clock.monotonicSeconds() + Double(ControlServer.requestTimeoutSeconds))
    }
}

/// The control protocol's request line, from the bytes a client sent.
public enum ControlLine {
    /// The first line without its newline and surrounding blanks; nil for no bytes.
    public static func text(_ bytes: [UInt8]) -> String? {
        guard !bytes.isEmpty else { return nil }
        let line = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 1, omittingEmptySubsequences: false)[0]
        return String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The request the bytes ask for, nil when none is known.
    public static func request(in bytes: [UInt8]) -> ControlRequest? {
        text(bytes).flatMap(ControlRequest.init(rawValue:))
    }
}
