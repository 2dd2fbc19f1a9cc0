import NUMAModel
import NUMAProc
import NUMASystem
import Synchronization

/// What a sampler thread hands back for one process.
public enum SamplingOutcome: Sendable {
    case observed(SamplingReport, sampler: NodeID)
    /// A normal event (the process exited, permission was refused), not a crash.
    case failed(pid: Int32, SamplingError, sampler: NodeID)
}

/// One pinned sampler thread per node with CPUs (none on CPU-less nodes).
/// A process goes to the sampler of the node where most of its CPU time was
/// spent last round; each result goes to the submitter's completion, on the
/// sampler thread, so no sampler ever waits on another or on the consumer.
/// The pool keeps nothing of a round but what sizes the next one, and that
/// only until the process is forgotten: a daemon's memory must not grow with
/// its rounds or with the processes that came and went (an unread stream of
/// every outcome once grew it 2.4 KB a round).
public final class SamplerPool: Sendable {
    public let samplers: [NodeSampler]
    private let sampler: ProcessSampler

    /// What the last round of each process measured, to route and size the next one.
    private struct Memory {
        var node: NodeID
        var baseline: CPUBaseline
        var designEffect: Double?
        var residentFraction: Double?
    }
    private let memory = Mutex<[Int32: Memory]>([:])

    public init(sampler: ProcessSampler) throws(SamplerPoolError) {
        self.sampler = sampler
        var samplers: [NodeSampler] = []
        for node in sampler.topology.nodes where node.hasCPUs {
            let thread = try NodeSampler(node: node.id, cpus: node.cpus)
            try thread.start()
            samplers.append(thread)
        }
        guard !samplers.isEmpty else { throw .noNodeWithCPUs }
        self.samplers = samplers
    }

    /// Samples `pid` on the sampler of its node, then calls `completion` on
    /// the sampler thread.
    public func submit(pid: Int32, options: SamplingOptions = SamplingOptions(),
                       completion: @escaping @Sendable (SamplingOutcome) -> Void) {
        let remembered = memory.withLock { $0[pid] }
        let thread = samplerThread(for: pid, remembered: remembered)
        var options = options
        if let remembered {
            options.cpuBaseline = remembered.baseline
            options.previousDesignEffect = remembered.designEffect
            options.previousResidentFraction = remembered.residentFraction
        }
        let sampler = self.sampler
        let node = thread.node
        thread.submit { [self, options] in
            let outcome: SamplingOutcome
            do throws(SamplingError) {
                let report = try sampler.observe(pid: pid, options: options)
                remember(pid: pid, report: report, fallback: node)
                outcome = .observed(report, sampler: node)
            } catch {
                forget(pid: pid)
                outcome = .failed(pid: pid, error, sampler: node)
            }
            completion(outcome)
        }
    }

    /// Starts the CPU interval of a process's first round now (its threads'
    /// stat files, no page query), so that round measures CPU time rather
    /// than only setting a baseline. Nothing if the process is gone.
    public func startInterval(pid: Int32, identity: ProcessIdentity) {
        guard memory.withLock({ $0[pid] }) == nil,
              let readings = try? ThreadCPUSampler(procfs: sampler.procfs).read(pid: pid, affinities: false) else { return }
        let node = currentNode(of: pid) ?? samplers[0].node
        let entry = Memory(node: node, baseline: CPUBaseline(identity: identity, readings: readings,
                                                             time: Clock.monotonicSeconds()))
        memory.withLock { $0[pid] = entry }
    }

    /// One round of one process, awaited.
    public func observe(pid: Int32, options: SamplingOptions = SamplingOptions()) async -> SamplingOutcome {
        await withCheckedContinuation { done in
            submit(pid: pid, options: options) { done.resume(returning: $0) }
        }
    }

    /// Stops every sampler thread (each finishes the process in hand).
    public func stop() {
        for thread in samplers { thread.stop() }
    }

    /// Drops what the last rounds of these processes measured: they exited
    /// (or their pids now name other processes). A round that fails forgets
    /// its process by itself; one that exited between rounds is the caller's
    /// to name.
    public func forget(_ pids: some Sequence<Int32>) {
        memory.withLock { remembered in
            for pid in pids { remembered.removeValue(forKey: pid) }
        }
    }

    /// How many processes the pool remembers a round of.
    public var rememberedCount: Int { memory.withLock { $0.count } }

    private func samplerThread(for pid: Int32, remembered: Memory?) -> NodeSampler {
        let node = remembered?.node ?? currentNode(of: pid)
        return samplers.first { $0.node == node } ?? samplers[Int(pid.magnitude) % samplers.count]
    }

    /// Before any round: the node of the CPU the process last ran on.
    private func currentNode(of pid: Int32) -> NodeID? {
        guard let stat = try? sampler.procfs.stat(pid) else { return nil }
        return sampler.topology.node(ofCPU: stat.processor)
    }

    private func remember(pid: Int32, report: SamplingReport, fallback: NodeID) {
        let observation = report.observation
        let busiest = observation.cpuSecondsByNode.max { $0.value < $1.value }?.key ?? fallback
        let pages = observation.pages
        let entry = Memory(node: busiest, baseline: report.cpuBaseline,
                           designEffect: pages.designEffect,
                           residentFraction: Double(pages.resident) / Double(max(pages.queried, 1)))
        memory.withLock { $0[pid] = entry }
    }

    private func forget(pid: Int32) { _ = memory.withLock { $0.removeValue(forKey: pid) } }
}
