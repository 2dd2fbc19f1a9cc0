import Foundation
import Glibc
import Testing
@testable import NUMADaemon

@Suite struct ControlServerTests {
    static let reply = ReloadReply(ok: true, generation: 7, errors: [], policyFiles: ["/etc/p/10-db.yaml"])

    /// A handler that answers each request with a text naming it.
    static let handler: ControlServer.Handler = { request in
        switch request {
        case .status: "numabalance: running\n"
        case .statusJSON: "{\"mode\":\"standalone\"}\n"
        case .metrics: "numabalance_processes 3\n"
        case .reload:
            String(decoding: try! JSONEncoder().encode(reply), as: UTF8.self) + "\n"
        }
    }

    @Test func roundTripsThroughTheClient() throws {
        let folder = SystemTestFiles.temporaryFolder()
        defer { SystemTestFiles.remove(folder) }
        let runtime = folder + "/run"   // missing: the server creates it
        let server = ControlServer(runtimeDirectory: runtime, handler: Self.handler)
        try server.start()
        defer { server.stop() }
        #expect(server.socketPath == runtime + "/control.sock")
        #expect(server.isRunning)

        let client = ControlClient(runtimeDirectory: runtime, timeoutSeconds: 5)
        #expect(try client.send(.status) == "numabalance: running\n")
        #expect(try client.send(.statusJSON) == "{\"mode\":\"standalone\"}\n")
        #expect(try client.send(.metrics) == "numabalance_processes 3\n")
        #expect(try client.reload() == Self.reply)
        // Several in a row on the one thread.
        for _ in 0..<20 { #expect(try client.send(.status) == "numabalance: running\n") }
    }

    @Test func theSocketIsRootOnly() throws {
        let folder = SystemTestFiles.temporaryFolder()
        defer { SystemTestFiles.remove(folder) }
        let server = ControlServer(runtimeDirectory: folder + "/run", handler: Self.handler)
        try server.start()
        defer { server.stop() }
        let mode = try #require(SystemTestFiles.mode(server.socketPath))
        #expect(mode & S_IFMT == S_IFSOCK)
        #expect(mode & 0o7777 == 0o600)
        #expect(SystemTestFiles.permissions(folder + "/run") == 0o755)
    }

    @Test func anUnknownRequestIsAnsweredWithTheKnownOnes() throws {
        let folder = SystemTestFiles.temporaryFolder()
        defer { SystemTestFiles.remove(folder) }
        let server = ControlServer(runtimeDirectory: folder, handler: Self.handler)
        try server.start()
        defer { server.stop() }
        #expect(SystemTestSockets.rawExchange(path: server.socketPath, send: "shutdown\n")
            == "error: unknown request 'shutdown'; known: status, status-json, metrics, reload\n")
        // Surrounding blanks and a CRLF (socat, telnet) are forgiven.
        #expect(SystemTestSockets.rawExchange(path: server.socketPath, send: " status\r\n") == "numabalance: running\n")
    }

    @Test func aSilentClientTimesOutAndTheServerGoesOn() throws {
        let folder = SystemTestFiles.temporaryFolder()
        defer { SystemTestFiles.remove(folder) }
        let server = ControlServer(runtimeDirectory: folder, handler: Self.handler)
        try server.start()
        defer { server.stop() }
        let start = ContinuousClock.now
        #expect(SystemTestSockets.rawExchange(path: server.socketPath, send: nil)
            == "error: no request line within 2 s\n")
        #expect(ContinuousClock.now - start >= .milliseconds(1900))
        #expect(try ControlClient(socketPath: server.socketPath).send(.metrics) == "numabalance_processes 3\n")
    }

    /// Security review 2.3: a runtime folder others can write was used as found.
    @Test func aRuntimeFolderOthersCanWriteIsRefused() throws {
        let folder = SystemTestFiles.temporaryFolder()
        defer { SystemTestFiles.remove(folder) }
        chmod(folder, 0o777)
        let server = ControlServer(runtimeDirectory: folder, handler: Self.handler)
        do {
            try server.start()
            server.stop()
            Issue.record("the server started in a world-writable folder")
        } catch {
            #expect("\(error)".contains("writable by group or others"), "\(error)")
        }
    }

    @Test func stopRemovesTheSocket() throws {
        let folder = SystemTestFiles.temporaryFolder()
        defer { SystemTestFiles.remove(folder) }
        let server = ControlServer(runtimeDirectory: folder, handler: Self.handler)
        try server.start()
        #expect(SystemTestFiles.mode(server.socketPath) != nil)
        server.stop()
        #expect(!server.isRunning)
        #expect(SystemTestFiles.mode(server.socketPath) == nil)
        server.stop()   // twice is harmless
        do {
            _ = try ControlClient(socketPath: server.socketPath).send(.status)
            Issue.record("a stopped server answered")
        } catch {
            #expect(error.description.contains("no numabalance daemon is running"))
        }
    }

    @Test func aSecondServerOnALivePathRefuses() throws {
        let folder = SystemTestFiles.temporaryFolder()
        defer { SystemTestFiles.remove(folder) }
        let first = ControlServer(runtimeDirectory: folder, handler: Self.handler)
        try first.start()
        defer { first.stop() }
        let second = ControlServer(runtimeDirectory: folder) { _ in "second\n" }
        do {
            try second.start()
            Issue.record("a second server started on a live socket")
        } catch {
            #expect(error.description.contains("a daemon already listens on \(first.socketPath)"))
        }
        #expect(!second.isRunning)
        // The first is untouched.
        #expect(try ControlClient(socketPath: first.socketPath).send(.status) == "numabalance: running\n")
    }

    @Test func aStaleSocketIsReplacedAndAnotherFileIsNot() throws {
        let folder = SystemTestFiles.temporaryFolder()
        defer { SystemTestFiles.remove(folder) }
        let path = folder + "/control.sock"
        // A socket file nothing listens on: what a killed daemon leaves.
        close(SystemTestSockets.boundSocket(Array(path.utf8), type: Int32(SOCK_STREAM.rawValue)))
        #expect(SystemTestFiles.mode(path).map { $0 & S_IFMT } == S_IFSOCK)
        let server = ControlServer(socketPath: path, handler: Self.handler)
        try server.start()
        #expect(try ControlClient(socketPath: path).send(.status) == "numabalance: running\n")
        server.stop()

        try "not a socket".write(toFile: path, atomically: false, encoding: .utf8)
        let other = ControlServer(socketPath: path, handler: Self.handler)
        do {
            try other.start()
            Issue.record("a server replaced a regular file")
        } catch {
            #expect(error.description.contains("\(path) exists and is not a socket"))
        }
        #expect(SystemTestFiles.text(path) == "not a socket")
    }

    @Test func stopLeavesASocketThatIsNoLongerOurs() throws {
        let folder = SystemTestFiles.temporaryFolder()
        defer { SystemTestFiles.remove(folder) }
        let server = ControlServer(runtimeDirectory: folder, handler: Self.handler)
        try server.start()
        // Someone replaced the file (another daemon started over it).
        unlink(server.socketPath)
        let replacement = SystemTestSockets.boundSocket(Array(server.socketPath.utf8), type: Int32(SOCK_STREAM.rawValue))
        defer { close(replacement) }
        server.stop()
        #expect(SystemTestFiles.mode(server.socketPath) != nil)
    }
}
