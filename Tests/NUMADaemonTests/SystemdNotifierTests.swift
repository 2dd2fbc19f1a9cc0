import Foundation
import Glibc
import Testing
@testable import NUMADaemon

@Suite struct SystemdNotifierTests {
    /// The next datagram on `fd`, or nil after the 2 s timeout.
    func receive(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n < 0 ? nil : String(decoding: buffer[0..<n], as: UTF8.self)
    }

    @Test func sendsTheExactDatagrams() throws {
        let folder = SystemTestFiles.temporaryFolder()
        defer { SystemTestFiles.remove(folder) }
        let path = folder + "/notify.sock"
        let fd = SystemTestSockets.boundSocket(Array(path.utf8), type: Int32(SOCK_DGRAM.rawValue))
        defer { close(fd) }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path])
        #expect(notifier.isActive)
        #expect(notifier.unavailableReason == nil)

        try notifier.ready(status: "standalone mode, 2 nodes")
        #expect(receive(fd) == "READY=1\nSTATUS=standalone mode, 2 nodes\nMAINPID=\(getpid())")
        try notifier.status("two\nlines")
        #expect(receive(fd) == "STATUS=two lines")
        try notifier.watchdog()
        #expect(receive(fd) == "WATCHDOG=1")
        try notifier.stopping()
        #expect(receive(fd) == "STOPPING=1")

        let before = SystemdNotifier.monotonicMicroseconds()
        try notifier.reloading()
        let after = SystemdNotifier.monotonicMicroseconds()
        let reloading = try #require(receive(fd))
        let lines = reloading.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first == "RELOADING=1")
        let stamp = try #require(lines.last.flatMap { UInt64($0.dropFirst("MONOTONIC_USEC=".count)) })
        #expect(lines.last?.hasPrefix("MONOTONIC_USEC=") == true)
        #expect(before <= stamp && stamp <= after)
    }

    @Test func abstractNamespaceSocket() throws {
        let name = "nb-test-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = SystemTestSockets.boundSocket([0] + Array(name.utf8), type: Int32(SOCK_DGRAM.rawValue))
        defer { close(fd) }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "@" + name])
        #expect(notifier.isActive)
        try notifier.watchdog()
        #expect(receive(fd) == "WATCHDOG=1")
    }

    @Test func unsetIsANoOp() throws {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isActive)
        #expect(notifier.socketPath == nil)
        #expect(notifier.watchdogInterval == nil)
        try notifier.ready(status: "x")
        try notifier.reloading()
        try notifier.watchdog()
        try notifier.stopping()
    }

    @Test func unsupportedSocketIsOffWithAReason() {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "vsock:2:1234"])
        #expect(!notifier.isActive)
        #expect(notifier.unavailableReason?.contains("vsock:2:1234") == true)
    }

    @Test func aSocketNobodyBoundIsAnError() {
        let path = "/tmp/nb-test-missing-\(getpid())/notify.sock"
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path])
        do {
            try notifier.watchdog()
            Issue.record("sending to a missing socket succeeded")
        } catch {
            #expect(error.description.contains(path))
            #expect(error.description.contains("No such file or directory"))
        }
    }

    @Test func watchdogIntervalFollowsWatchdogPid() {
        let pid = getpid()
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000"]).watchdogInterval == .seconds(30))
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(pid)"])
            .watchdogInterval == .seconds(30))
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(pid + 1)"])
            .watchdogInterval == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "0"]).watchdogInterval == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "soon"]).watchdogInterval == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "1500"]).watchdogInterval == .microseconds(1500))
    }
}
