import Foundation
import CLinux
import Glibc
import NUMAModel
import Synchronization

/// A real pthread pinned to one node's CPUs, so its buffers are node-local
/// and the sampling work spreads over the machine. It sleeps in poll(2) on
/// an eventfd that both new work and the stop request write to.
public final class SamplerThread: Sendable {
    public let node: NodeID
    public let cpus: CPUSet
    /// ≤ 15 characters: the kernel's limit for a thread name.
    public let name: String

    private struct State {
        var queue: [@Sendable () -> Void] = []
        var stopping = false
        var tid: Int32 = 0
        var pinError: Int32 = 0
        var started = false
    }

    private let wakeFD: Int32
    private let state = Mutex(State())
    // pthread_t is a plain integer on Linux; kept for the join.
    private let thread = Mutex<pthread_t?>(nil)

    public init(node: NodeID, cpus: CPUSet) throws(SamplerThreadError) {
        self.node = node
        self.cpus = cpus
        self.name = "nb-sampler-\(node.rawValue)".prefix(15).description
        let fd = clinux_eventfd()
        guard fd >= 0 else { throw .eventfd(errno: -fd) }
        wakeFD = fd
    }

    deinit { close(wakeFD) }

    /// Starts the thread and waits until it has pinned itself.
    public func start() throws(SamplerThreadError) {
        let context = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<SamplerThread>.fromOpaque(raw).takeRetainedValue().main()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<SamplerThread>.fromOpaque(context).release()
            throw .create(errno: rc)
        }
        thread.withLock { $0 = handle }
        // The thread reports its tid once pinned. An emulated or overloaded
        // machine can take seconds to schedule it: wait up to 15 s, polling.
        let deadline = monotonicSeconds() + 15
        while monotonicSeconds() < deadline {
            let (started, pinError) = state.withLock { ($0.started, $0.pinError) }
            if started { if pinError != 0 { throw .pin(errno: pinError) } else { return } }
            usleep(1000)
        }
        throw .create(errno: ETIMEDOUT)
    }

    /// The name the kernel shows for the thread (/proc/self/task/TID/comm).
    public var threadNameFromKernel: String? {
        guard let text = try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8) else {
            return nil
        }
        return text.trimmingWhitespace()
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

    private func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    private func main() {
        _ = clinux_set_thread_name(name)
        let pinError = pinToNode()
        state.withLock {
            $0.tid = clinux_gettid()
            $0.pinError = pinError
            $0.started = true
        }
        guard pinError == 0 else { return }
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

    /// Pins the calling thread (this one) to the node's CPUs: from inside, so
    /// its first allocations already land on the node.
    private func pinToNode() -> Int32 {
        let words = CPUMask.words(cpus)
        let rc = words.withUnsafeBufferPointer {
            clinux_sched_setaffinity(0, $0.baseAddress, $0.count)
        }
        return -rc
    }
}

public enum SamplerThreadError: Error, CustomStringConvertible, Equatable {
    case eventfd(errno: Int32)
    case create(errno: Int32)
    case pin(errno: Int32)
    case noNodeWithCPUs

    public var description: String {
        switch self {
        case .eventfd(let e): "cannot create a sampler's eventfd: \(String(cString: strerror(e)))"
        case .create(let e): "cannot start a sampler thread: \(String(cString: strerror(e)))"
        case .pin(let e): "cannot pin a sampler thread to its node: \(String(cString: strerror(e)))"
        case .noNodeWithCPUs: "the topology has no node with CPUs to run a sampler on"
        }
    }
}

/// CPU sets as the kernel's affinity bit arrays.
public enum CPUMask {
    /// 64-bit words with bit i set for CPU i; at least 16 words (1024 CPUs).
    public static func words(_ cpus: CPUSet) -> [UInt64] {
        let count = max(16, (cpus.ids.last ?? 0) / 64 + 1)
        var words = [UInt64](repeating: 0, count: count)
        for cpu in cpus { words[cpu / 64] |= 1 << UInt64(cpu % 64) }
        return words
    }

    /// The CPUs of a mask, by its set bits only: this runs for every thread
    /// of every sampled process each round.
    public static func cpus(_ words: [UInt64]) -> CPUSet {
        var ids: [Int] = []
        for (index, word) in words.enumerated() where word != 0 {
            var rest = word
            while rest != 0 {
                ids.append(index * 64 + rest.trailingZeroBitCount)
                rest &= rest - 1
            }
        }
        return CPUSet(ascending: ids)
    }

    /// The affinity of a thread, read back from the kernel.
    public static func affinity(of tid: Int32) -> CPUSet? {
        var words = [UInt64](repeating: 0, count: 64)
        let rc = words.withUnsafeMutableBufferPointer {
            clinux_sched_getaffinity(tid, $0.baseAddress, $0.count)
        }
        return rc == 0 ? cpus(words) : nil
    }
}
