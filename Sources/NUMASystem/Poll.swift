import CLinux
import Glibc

/// What poll(2) waits for on a descriptor, and what it found.
public struct PollEvents: OptionSet, Sendable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    public static let readable = PollEvents(rawValue: Int16(POLLIN))
    public static let writable = PollEvents(rawValue: Int16(POLLOUT))
    /// Found only: an error, the peer gone, or a descriptor that is not open.
    public static let error = PollEvents(rawValue: Int16(POLLERR))
    public static let hangUp = PollEvents(rawValue: Int16(POLLHUP))
    public static let invalid = PollEvents(rawValue: Int16(POLLNVAL))
}

/// Sleeping until descriptors are ready: poll(2), EINTR retried here.
public enum Poll {
    /// poll(2) on `fds`, each for `events`, without a time limit: what each
    /// descriptor found (empty for those not ready).
    public static func wait(_ fds: [Int32], for events: PollEvents) -> Result<[PollEvents], SystemError> {
        var entries = fds.map { pollfd(fd: $0, events: events.rawValue, revents: 0) }
        return Syscall.libc("poll") {
            entries.withUnsafeMutableBufferPointer { Glibc.poll($0.baseAddress, nfds_t($0.count), -1) }
        }.map { _ in entries.map { PollEvents(rawValue: $0.revents) } }
    }

    /// Whether `fd` became ready for `events` (or found an error or hang-up,
    /// which the next read or send reports) before `deadline`, in
    /// `Clock.monotonicSeconds()`. One deadline for a whole exchange, not a
    /// timeout per call: a peer sending a byte a second cannot stretch it.
    public static func wait(_ fd: Int32, for events: PollEvents, until deadline: Double) -> Bool {
        while true {
            let left = deadline - Clock.monotonicSeconds()
            guard left > 0 else { return false }
            var entry = pollfd(fd: fd, events: events.rawValue, revents: 0)
            let ready = Glibc.poll(&entry, 1, Int32(min(left * 1000, 60_000).rounded(.up)))
            // After EINTR the time left is measured again.
            if ready < 0 { if errno == EINTR { continue }; return false }
            if ready > 0 { return true }
        }
    }
}

/// An eventfd(2) one thread writes to wake another that sleeps in poll(2)
/// (a stop request); close it with `FileIO.close`.
public enum WakeUp {
    /// A new eventfd, close-on-exec.
    public static func make() -> Result<Int32, SystemError> {
        Syscall.call("eventfd") { clinux_eventfd() }
    }

    /// Adds one to the counter: the descriptor is readable until cleared.
    public static func signal(_ fd: Int32) {
        var one: UInt64 = 1
        _ = Glibc.write(fd, &one, 8)
    }
}
