import Foundation
import NUMAProc
import NUMASystem
import Synchronization

/// Reads the kernel's process events (the proc connector) on a thread of
/// its own and hands the loop what discovery needs: processes that started
/// a program (fork, exec) and processes that ended. The loop then looks at
/// a new process half a second after its start instead of at the next
/// /proc listing, and lists /proc only to reconcile (`Balancer.listingInterval`).
final class ProcessEventThread: Sendable {
    struct Taken: Sendable {
        /// Pids that forked or exec'd since the last take, oldest first, once
        /// each, with when the event came (monotonic seconds).
        var started: [(pid: Int32, at: Double)] = []
        var ended: [Int32] = []
        /// Events were lost (the socket overflowed, or a burst passed the
        /// queue's bound): the loop lists /proc to catch up.
        var lost = false
        /// When the first of these events came: the loop takes them
        /// `Balancer.startDelay` later (its first looks are due then).
        var since: Double?
    }

    /// Pids held at most between two takes (a fork bomb's): past it the
    /// batch is marked lost and the listing catches up.
    static let queueLimit = 4096

    private struct State {
        var taken = Taken()
        var seen = Set<Int32>()
        var stopping = false
    }

    private let connector: ProcConnector
    private let state = Mutex(State())
    private let done = DispatchSemaphore(value: 0)
    /// Wakes the loop once per batch, at its first event since the last
    /// take (a fork storm wakes it twice per start delay, not per fork).
    private let wake: @Sendable () -> Void

    init(connector: ProcConnector, wake: @escaping @Sendable () -> Void = {}) {
        self.connector = connector
        self.wake = wake
        let thread = Thread { [self] in
            Host.nameThisThread("nb-events")
            main()
        }
        thread.start()
    }

    /// When the events not yet taken began to come (-infinity: some were
    /// lost, list now); nil when there are none.
    func pendingSince() -> Double? {
        state.withLock { $0.taken.lost ? -.infinity : $0.taken.since }
    }

    func take() -> Taken {
        state.withLock { state in
            defer { state.taken = Taken(); state.seen = [] }
            return state.taken
        }
    }

    /// Stops within one receive timeout.
    func stop() {
        state.withLock { $0.stopping = true }
        done.wait()
    }

    private func main() {
        defer { done.signal() }
        while !state.withLock({ $0.stopping }) {
            switch connector.receive(timeout: 0.25) {
            case .success(let datagrams):
                if !datagrams.isEmpty { record(datagrams.flatMap(ProcEvents.parse)) }
            case .failure(let error):
                // ENOBUFS: the kernel dropped events for us. Anything else is
                // not expected; the listing catches up either way.
                let first = state.withLock { state in
                    defer { state.taken.lost = true }
                    return !state.taken.lost
                }
                if first { wake() }
                if error.errno != Errno.noBufferSpace { Clock.sleep(seconds: 1) }
            }
        }
    }

    private func record(_ events: [ProcEvent]) {
        let now = Clock.monotonicSeconds()
        let first = state.withLock { state -> Bool in
            let wasEmpty = state.taken.since == nil && !state.taken.lost
            for event in events {
                switch event {
                case .fork(_, let pid), .exec(let pid):
                    guard state.seen.count < Self.queueLimit else { state.taken.lost = true; continue }
                    if state.seen.insert(pid).inserted { state.taken.started.append((pid, now)) }
                case .exit(let process, let thread) where process == thread:
                    guard state.taken.ended.count < Self.queueLimit else { state.taken.lost = true; continue }
                    state.taken.ended.append(process)
                case .exit, .thread, .other:
                    break
                }
            }
            if state.taken.since == nil, !state.taken.started.isEmpty || !state.taken.ended.isEmpty {
                state.taken.since = now
            }
            return wasEmpty && state.taken.since != nil
        }
        if first { wake() }
    }
}
