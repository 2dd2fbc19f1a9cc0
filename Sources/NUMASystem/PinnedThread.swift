import CLinux
import Glibc
import NUMAModel
import Synchronization

/// A real pthread, pinned to a set of CPUs (a node's, so its buffers are
/// node-local) or left where the scheduler puts it, running submitted work
/// in order. It sleeps in poll(2) on an eventfd that both new work and the
/// stop request write to.
public final class PinnedThread: Sendable {
    public let cpus: CPUSet?
    /// ≤ 15 characters: the kernel's limit for a thread name.
    public let name: String

    private struct State {
        var queue: [@Sendable () -> Void] = []
        var stopping = false
        var tid: Int32 = 0
        var pinError: SystemError?
        var started = false
    }

    private let wakeFD: Int32
    private let state = Mutex(State())
    // pthread_t is a plain integer on Linux; kept for the join.
    private let thread = Mutex<pthread_t?>(nil)

    /// `cpus` nil: not pinned.
    public init(name: String, cpus: CPUSet?) throws(SystemError) {
        self.cpus = cpus
        self.name = String(name.prefix(15))
        wakeFD = try Syscall.call("eventfd") { clinux_eventfd() }.get()
    }

    deinit { close(wakeFD) }

    /// Starts the thread and waits until it has pinned itself.
    public func start() throws(SystemError) {
        let context = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<PinnedThread>.fromOpaque(raw).takeRetainedValue().main()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<PinnedThread>.fromOpaque(context).release()
            throw SystemError("pthread_create of \(name)", errno: rc)
        }
        thread.withLock { $0 = handle }
        // The thread reports its tid once pinned. An emulated or overloaded
        // machine can take seconds to schedule it: wait up to 15 s, polling.
        let deadline = Clock.monotonicSeconds() + 15
        while Clock.monotonicSeconds() < deadline {
            let (started, pinError) = state.withLock { ($0.started, $0.pinError) }
            if started { if let pinError { throw pinError } else { return } }
            usleep(1000)
        }
        throw SystemError("start of thread \(name)", errno: ETIMEDOUT)
    }

    /// The kernel's id of the thread (0 before it started).
    public var tid: Int32 { state.withLock { $0.tid } }

    /// Queues work to run on this thread.
    public func submit(_ work: @escaping @Sendable () -> Void) {
        let accepted = state.withLock { state -> Bool in
            guard !state.stopping else { return false }
            state.queue.append(work)
            return true
        }
        if accepted { wake() }
    }

    /// Work queued and not yet started.
    public var backlog: Int { state.withLock { $0.queue.count } }

    /// Asks the thread to stop after the job in hand, and joins it.
    public func stop() {
        state.withLock { $0.stopping = true }
        wake()
        if let handle = thread.withLock({ h -> pthread_t? in defer { h = nil }; return h }) {
            pthread_join(handle, nil)
        }
    }

    /// Whether stop was asked: a long job polls it to end early.
    public var isStopping: Bool { state.withLock { $0.stopping } }

    private func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    private func main() {
        Host.nameThisThread(name)
        // Pinned from inside, so its first allocations already land on the node.
        var pinError: SystemError?
        if let cpus, case .failure(let error) = CPUMask.setAffinity(of: 0, to: cpus) { pinError = error }
        state.withLock {
            $0.tid = clinux_gettid()
            $0.pinError = pinError
            $0.started = true
        }
        guard pinError == nil else { return }
        while true {
            let (job, stopping) = state.withLock { state -> ((@Sendable () -> Void)?, Bool) in
                if state.stopping { return (nil, true) }
                return (state.queue.isEmpty ? nil : state.queue.removeFirst(), false)
            }
            if stopping { return }
            if let job { job(); continue }
            var fds = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
            if poll(&fds, 1, -1) > 0 {
                var counter: UInt64 = 0
                _ = read(wakeFD, &counter, 8)
            }
        }
    }
}
