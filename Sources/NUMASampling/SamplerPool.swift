import NUMAModel
import NUMAProc
import Synchronization

/// What a sampler thread hands back for one process.
public enum SamplingOutcome: Sendable {
    case observed(SamplingReport, sampler: NodeID)
    /// A normal event (the process exited, permission was refused), not a crash.
    case failed(pid: Int32, SamplingError, sampler: NodeID)
}

/// One pinned sampler thread per node with CPUs (none on CPU-less nodes).
/// A process goes to the sampler of the node where most of its CPU time was
/// spent last round; results come back through `outcomes`, a thread-safe
/// channel, so no sampler ever waits on another or on the consumer.
public final class SamplerPool: Sendable {
    public let samplers: [SamplerThread]
    public let outcomes: AsyncStream<SamplingOutcome>
    private let continuation: AsyncStream<SamplingOutcome>.Continuation
    private let sampler: ProcessSampler

    /// What the last round of each process measured, to route and size the next one.
    private struct Memory {
        var node: NodeID
        var baseline: CPUBaseline
        var designEffect: Double?
        var residentFraction: Double?
    }
    private let memory = Mutex<[Int32: Memory]>([:])

    public init(sampler: ProcessSampler) throws(SamplerThreadError) {
        self.sampler = sampler
        var samplers: [SamplerThread] = []
        for node in sampler.topology.nodes where node.hasCPUs {
            let thread = try SamplerThread(node: node.id, cpus: node.cpus)
            try thread.start()
            samplers.append(thread)
        }
        guard !samplers.isEmpty else { throw .noNodeWithCPUs }
        self.samplers = samplers
        (outcomes, continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// Samples `pid` on the sampler of its node, then yields to `outcomes`
    /// and calls `completion` (if any) on the sampler thread.
    public func submit(pid: Int32, options: SamplingOptions = SamplingOptions(),
                       completion: (@Sendable (SamplingOutcome) -> Void)? = nil) {
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
            continuation.yield(outcome)
            completion?(outcome)
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
                                                             time: monotonicSeconds()))
        memory.withLock { $0[pid] = entry }
    }

    /// One round of one process, awaited.
    public func observe(pid: Int32, options: SamplingOptions = SamplingOptions()) async -> SamplingOutcome {
        await withCheckedContinuation { done in
            submit(pid: pid, options: options) { done.resume(returning: $0) }
        }
    }

    /// Stops every sampler thread (each finishes the process in hand) and ends `outcomes`.
    public func stop() {
        for thread in samplers { thread.stop() }
        continuation.finish()
    }

    private func samplerThread(for pid: Int32, remembered: Memory?) -> SamplerThread {
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
