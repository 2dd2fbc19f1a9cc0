import NUMAActuation
import NUMAModel
import NUMASystem
import Synchronization

/// One mover thread per node with CPUs, pinned to the node's CPUs, as
/// AutoNUMA had one knuma_migrated per node: a move runs on the mover of
/// its destination, so the kernel's copy runs there (reading far, writing
/// near), moves bound for different nodes run at once, and a large move is
/// split over the node's CPUs (ActuationOptions.parallelism). The loop
/// hands work over and goes on sampling, answering status and pinging the
/// watchdog; what a mover did comes back as news, and wakes the loop.
final class NodeMovers: Sendable {
    /// What a mover reports: each action's record as it ends, then the end
    /// of the whole job (its processes are free to be looked at again).
    enum News: Sendable {
        case record(ActionRecord)
        case finished(job: Int, pids: [Int32])
    }

    private let threads: [NodeID: PinnedThread]
    /// Each node's mover: its own, or a CPU-less node's nearest with CPUs.
    private let moverOf: [NodeID: NodeID]
    private let news = Mutex<[News]>([])
    /// Wakes the loop when news lands.
    private let wake: @Sendable () -> Void

    init(topology: Topology, wake: @escaping @Sendable () -> Void = {}) throws(SystemError) {
        self.wake = wake
        var threads: [NodeID: PinnedThread] = [:]
        for node in topology.nodes where node.hasCPUs {
            threads[node.id] = try PinnedThread(name: "nb-mover-\(node.id.rawValue)", cpus: node.cpus)
        }
        var moverOf: [NodeID: NodeID] = [:]
        for node in topology.nodes {
            moverOf[node.id] = node.hasCPUs ? node.id : threads.keys.min { a, b in
                (topology.distance(from: node.id, to: a) ?? Int.max, a.rawValue)
                    < (topology.distance(from: node.id, to: b) ?? Int.max, b.rawValue)
            }
        }
        self.threads = threads
        self.moverOf = moverOf
    }

    func start() throws(SystemError) {
        for thread in threads.values { try thread.start() }
    }

    /// The node whose mover carries `action`: where its memory goes; nil
    /// for an action that moves none (affinity: the loop does it at once).
    static func destination(of action: Action) -> NodeID? {
        switch action {
        case .movePages(let a): a.to
        case .moveRanges(let a): a.to
        case .setObjectPolicy(let a): a.moveExisting && a.bytes > 0 ? a.nodes.first : nil
        case .setAffinity, .swap: nil
        }
    }

    /// The CPUs a move to `node` is split over.
    func cpuCount(for node: NodeID) -> Int {
        moverOf[node].flatMap { threads[$0]?.cpus?.count } ?? 1
    }

    /// Queues `work` on the mover of `node`; false when there is none (a
    /// node not in the topology the movers were made for).
    func submit(job: Int, pids: [Int32], to node: NodeID,
                work: @escaping @Sendable (_ report: @Sendable (ActionRecord) -> Void) -> Void) -> Bool {
        guard let mover = moverOf[node].flatMap({ threads[$0] }) else { return false }
        mover.submit { [self] in
            work { record in
                self.news.withLock { $0.append(.record(record)) }
                self.wake()
            }
            news.withLock { $0.append(.finished(job: job, pids: pids)) }
            wake()
        }
        return true
    }

    /// News since the last take, in the order it came.
    func take() -> [News] { news.withLock { box in defer { box = [] }; return box } }

    /// Stops every mover after the batch in hand (the stop signal ends the
    /// job it runs), and joins them. Jobs not started are dropped: nothing
    /// of them was done or journalled.
    func stop() {
        for thread in threads.values { thread.stop() }
    }

    /// The movers' kernel thread ids, by node (for tests and `status`).
    var tids: [NodeID: Int32] { threads.mapValues(\.tid) }
}
