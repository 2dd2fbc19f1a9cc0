import CLinux
import Foundation
import Glibc
import NUMAProc
import Synchronization

/// Why the control socket could not be set up.
public struct ControlServerError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
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
        var thread: pthread_t?
        /// The socket file we bound (device, inode), so stop() never
        /// removes a file that is not ours any more.
        var boundFile: (dev: UInt, ino: UInt)?
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
        guard var address = UnixAddress(path: socketPath) else {
            throw ControlServerError("socket path \(socketPath) is too long (\(socketPath.utf8.count) bytes; "
                + "at most 107): set a shorter runtimeDirectory in the config")
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlServerError("socket(AF_UNIX): \(String(cString: strerror(errno)))") }
        // Linux creates the socket file with the socket inode's mode (less
        // the umask), so it is never more open than 0600, not even briefly.
        // No chmod of the path after bind: that follows a symlink someone
        // could put there (security review 2.3). The umask is left alone:
        // it is the whole process's.
        fchmod(fd, 0o600)
        func fail(_ what: String) -> ControlServerError {
            let code = errno
            close(fd)
            return ControlServerError("cannot \(what) \(socketPath): \(String(cString: strerror(code)))")
        }
        guard address.withSockaddr({ bind(fd, $0, $1) }) == 0 else { throw fail("bind") }
        var info = stat()
        let bound = lstat(socketPath, &info) == 0 ? (dev: UInt(info.st_dev), ino: UInt(info.st_ino)) : nil
        guard listen(fd, 16) == 0 else {
            let error = fail("listen on")
            unlink(socketPath)
            throw error
        }
        let wake = clinux_eventfd()
        guard wake >= 0 else {
            close(fd)
            unlink(socketPath)
            throw ControlServerError("cannot create an eventfd for the control server: \(String(cString: strerror(-wake)))")
        }
        let loop = ControlServerLoop(listenFD: fd, wakeFD: wake, handler: handler)
        var handle = pthread_t()
        let context = Unmanaged.passRetained(loop).toOpaque()
        let rc = pthread_create(&handle, nil, { raw in
            guard let raw else { return nil }
            let loop = Unmanaged<ControlServerLoop>.fromOpaque(raw).takeRetainedValue()
            _ = clinux_set_thread_name("nb-control")
            loop.run()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<ControlServerLoop>.fromOpaque(context).release()
            loop.closeDescriptors()
            unlink(socketPath)
            throw ControlServerError("cannot start the control server thread: \(String(cString: strerror(rc)))")
        }
        state.withLock {
            $0.loop = loop
            $0.thread = handle
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
        if let thread { pthread_join(thread, nil) }
        loop.closeDescriptors()
        var info = stat()
        if let bound, stat(socketPath, &info) == 0, UInt(info.st_dev) == bound.dev, UInt(info.st_ino) == bound.ino {
            unlink(socketPath)
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
        var info = stat()
        guard lstat(socketPath, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw ControlServerError("\(socketPath) exists and is not a socket; move it away")
        }
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { throw ControlServerError("socket(AF_UNIX): \(String(cString: strerror(errno)))") }
        defer { close(probe) }
        guard var address = UnixAddress(path: socketPath) else { return }
        if address.withSockaddr({ connect(probe, $0, $1) }) == 0 {
            throw ControlServerError("a daemon already listens on \(socketPath); stop it first "
                + "(systemctl stop numabalance), or set another runtimeDirectory")
        }
        guard errno == ECONNREFUSED else {
            throw ControlServerError("cannot tell whether a daemon listens on \(socketPath): "
                + "\(String(cString: strerror(errno)))")
        }
        guard unlink(socketPath) == 0 || errno == ENOENT else {
            throw ControlServerError("cannot remove the stale socket \(socketPath): \(String(cString: strerror(errno)))")
        }
    }
}

/// The serving thread's state: the listening socket, the eventfd that
/// stop() writes to, and the handler. Owned by the thread while it runs.
private final class ControlServerLoop: Sendable {
    let listenFD: Int32
    let wakeFD: Int32
    let handler: ControlServer.Handler

    init(listenFD: Int32, wakeFD: Int32, handler: @escaping ControlServer.Handler) {
        self.listenFD = listenFD
        self.wakeFD = wakeFD
        self.handler = handler
    }

    func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    func closeDescriptors() {
        close(listenFD)
        close(wakeFD)
    }

    /// Sleeps in poll(2) on the listening socket and the eventfd; serves
    /// connections one by one until woken.
    func run() {
        while true {
            var fds = [pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            let ready = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, 2, -1) }
            if ready < 0 { if errno == EINTR { continue }; return }
            if fds[1].revents != 0 { return }
            guard fds[0].revents & Int16(POLLIN) != 0 else { continue }
            let connection = accept(listenFD, nil, nil)
            guard connection >= 0 else {
                if AcceptFailure(errno: errno) == .backOff { usleep(100_000) }
                continue
            }
            // Glibc's Swift module lacks accept4; the daemon executes nothing anyway.
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            serve(connection)
            close(connection)
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
        guard let bytes = SocketRequest.read(fd, seconds: seconds, limit: 1024,
                                             complete: { $0.contains(UInt8(ascii: "\n")) })
        else { return nil }
        return ControlLine.text(bytes)
    }

    /// A client that stops reading gets the same deadline as for its request.
    private func reply(_ fd: Int32, _ answer: String) {
        SocketRequest.send(fd, Array(answer.utf8), seconds: Double(ControlServer.requestTimeoutSeconds))
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
