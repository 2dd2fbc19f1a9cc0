import NUMAModel
import NUMASystem

/// The sampler of one node: a thread pinned to the node's CPUs (NUMASystem's
/// PinnedThread), so its buffers are node-local and the sampling work
/// spreads over the machine.
public final class NodeSampler: Sendable {
    public let node: NodeID
    public let cpus: CPUSet
    private let thread: PinnedThread

    init(node: NodeID, cpus: CPUSet) throws(SamplerPoolError) {
        self.node = node
        self.cpus = cpus
        do { thread = try PinnedThread(name: "nb-sampler-\(node.rawValue)", cpus: cpus) } catch {
            throw .eventfd(error)
        }
    }

    /// Starts the thread and waits until it has pinned itself. A thread that
    /// reported its tid ran and failed to pin; one with none never ran.
    func start() throws(SamplerPoolError) {
        do { try thread.start() } catch { throw thread.tid != 0 ? .pin(error) : .start(error) }
    }

    /// ≤ 15 characters: the kernel's limit for a thread name.
    public var name: String { thread.name }

    /// The kernel's id of the thread (0 before it started).
    public var tid: Int32 { thread.tid }

    /// Work queued and not yet started.
    public var backlog: Int { thread.backlog }

    /// The name the kernel shows for the thread (/proc/self/task/TID/comm).
    public var threadNameFromKernel: String? {
        guard case .success(let bytes) = FileIO.read("/proc/self/task/\(tid)/comm") else { return nil }
        return String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
    }

    /// Queues work to run on the node's thread.
    public func submit(_ work: @escaping @Sendable () -> Void) { thread.submit(work) }

    /// Stops the thread after the job in hand, and joins it.
    public func stop() { thread.stop() }
}

/// Why the sampler pool could not start.
public enum SamplerPoolError: Error, CustomStringConvertible, Equatable {
    case eventfd(SystemError)
    case start(SystemError)
    case pin(SystemError)
    case noNodeWithCPUs

    public var description: String {
        switch self {
        case .eventfd(let e): "cannot create a sampler's eventfd: \(Errno.message(e.errno))"
        case .start(let e): "cannot start a sampler thread: \(Errno.message(e.errno))"
        case .pin(let e): "cannot pin a sampler thread to its node: \(Errno.message(e.errno))"
        case .noNodeWithCPUs: "the topology has no node with CPUs to run a sampler on"
        }
    }
}
