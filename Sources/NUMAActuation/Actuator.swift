import NUMAModel

/// Carries out a plan's actions. One Linux implementation, a dry run that
/// changes nothing, and the unit tests' fake kernel under both.
public protocol Actuator: Sendable {
    /// What the action would replace, read before acting (the journal's
    /// intent line), or nil when it replaces nothing `restore` can undo.
    func prepare(_ action: Action) -> Replaced?
    /// Carries out one action. Normal events (the process exited, pages not
    /// moved, not permitted) are in the record's outcome, never thrown.
    func perform(_ action: Action) -> ActionRecord
}

/// The actuator on Linux: sched_setaffinity per thread, move_pages and
/// migrate_pages within the budget, mbind on shared objects. Every action
/// first re-checks the identity of the processes it touches.
public struct LinuxActuator: Actuator {
    public let kernel: any KernelInterface
    public let options: ActuationOptions

    public init(kernel: any KernelInterface, options: ActuationOptions) {
        self.kernel = kernel
        self.options = options
    }

    public func prepare(_ action: Action) -> Replaced? {
        let setter = AffinitySetter(kernel: kernel)
        switch action {
        case .setAffinity(let a):
            return (try? setter.snapshot(pid: a.process.pid).get()).map { Replaced(affinity: $0) }
        case .swap(let s):
            let both = [s.a, s.b].compactMap { try? setter.snapshot(pid: $0.pid).get() }.flatMap { $0 }
            return both.isEmpty ? nil : Replaced(affinity: both)
        case .setObjectPolicy(let a):
            return ObjectPolicySetter(kernel: kernel, options: options).currentPolicy(a).map { Replaced(objectPolicy: $0) }
        case .movePages, .moveRanges:
            return nil
        }
    }

    public func perform(_ action: Action) -> ActionRecord {
        let started = kernel.now()
        var watches: [any ProcessWatch] = []
        defer { watches.forEach { $0.close() } }
        for identity in action.processes {
            switch ProcessGuard.watch(identity, kernel: kernel, selfPID: options.selfPID,
                                      sampled: options.sampledImages[identity]) {
            case .success(let (_, watch)): watches.append(watch)
            case .failure(let error): return ActionRecord(action: action, outcome: .failed(error))
            }
        }
        let memory = MemoryActions(kernel: kernel, options: options)
        let setter = AffinitySetter(kernel: kernel)
        switch action {
        case .setAffinity(let a):
            let (outcome, replaced) = setter.apply(pid: a.process.pid, cpus: a.cpus, watch: watches[0], started: started)
            return ActionRecord(action: action, outcome: outcome, replaced: replaced)
        case .swap(let s):
            let (first, replacedA) = setter.apply(pid: s.a.pid, cpus: s.aCPUs, watch: watches[0], started: started)
            guard first.status == .done else { return ActionRecord(action: action, outcome: first, replaced: replacedA) }
            let (second, replacedB) = setter.apply(pid: s.b.pid, cpus: s.bCPUs, watch: watches[1], started: started)
            var outcome = second
            outcome.summary = "pid \(s.a.pid): \(first.summary); pid \(s.b.pid): \(second.summary)"
            outcome.threads += first.threads
            let affinity = (replacedA?.affinity ?? []) + (replacedB?.affinity ?? [])
            return ActionRecord(action: action, outcome: outcome,
                                replaced: affinity.isEmpty ? nil : Replaced(affinity: affinity))
        case .movePages(let a):
            return ActionRecord(action: action, outcome: memory.movePages(a, watch: watches[0], started: started))
        case .moveRanges(let a):
            return ActionRecord(action: action, outcome: memory.moveRanges(a, watch: watches[0], started: started))
        case .setObjectPolicy(let a):
            let (outcome, replaced) = ObjectPolicySetter(kernel: kernel, options: options).apply(a, started: started)
            return ActionRecord(action: action, outcome: outcome, replaced: replaced)
        }
    }
}

/// Says what the Linux actuator would do and changes nothing: it only
/// reads (/proc, sched_getaffinity, move_pages queries with no node array).
public struct DryRunActuator: Actuator {
    public let kernel: any KernelInterface
    public let options: ActuationOptions

    public init(kernel: any KernelInterface, options: ActuationOptions) {
        self.kernel = kernel
        self.options = options
    }

    public func prepare(_ action: Action) -> Replaced? { nil }

    public func perform(_ action: Action) -> ActionRecord {
        let started = kernel.now()
        for identity in action.processes {
            if case .failure(let error) = ProcessGuard.check(identity, kernel: kernel, selfPID: options.selfPID,
                                                             sampled: options.sampledImages[identity]) {
                return ActionRecord(action: action, outcome: .failed(error))
            }
        }
        let outcome: ActionOutcome
        switch action {
        case .setAffinity(let a): outcome = affinity(pid: a.process.pid, cpus: a.cpus)
        case .swap(let s):
            let a = affinity(pid: s.a.pid, cpus: s.aCPUs), b = affinity(pid: s.b.pid, cpus: s.bCPUs)
            outcome = ActionOutcome(status: .wouldDo, summary: "pid \(s.a.pid): \(a.summary); pid \(s.b.pid): \(b.summary)",
                                    threads: a.threads + b.threads)
        case .moveRanges(let a): outcome = pages(pid: a.process.pid, ranges: a.ranges, from: nil, to: a.to)
        case .movePages(let a):
            let ranges = ((try? kernel.mappings(a.process.pid).get()) ?? []).filter(\.isEligibleForSampling)
                .map { AddressRange(start: $0.start, end: $0.end) }
            outcome = pages(pid: a.process.pid, ranges: ranges, from: Set(a.from.map { Int32($0.rawValue) }), to: a.to)
        case .setObjectPolicy(let a):
            var o = pages(pid: a.via.pid, ranges: a.ranges, from: nil, to: a.nodes.first ?? 0)
            o.summary = "would set policy \(MemoryPolicySpec(a.policy, nodes: a.nodes)) on \(a.objectKey) and "
                + o.summary.replacingPrefix("would ", with: "")
            outcome = o
        }
        var result = outcome
        result.seconds = kernel.now() - started
        return ActionRecord(action: action, outcome: result)
    }

    private func affinity(pid: Int32, cpus: CPUSet) -> ActionOutcome {
        let setter = AffinitySetter(kernel: kernel)
        let threads = (try? setter.snapshot(pid: pid).get()) ?? []
        let target = (try? setter.allowedCPUs(cpus, pid: pid).get()) ?? cpus
        let changing = threads.filter { $0.cpus != target }
        let now = Set(threads.map(\.cpus.listFormat)).sorted().joined(separator: " ")
        return ActionOutcome(status: .wouldDo,
                             summary: "would set \(changing.count) of \(threads.count) thread(s) from CPUs \(now) to \(target)",
                             method: "sched_setaffinity per thread", threads: changing.count)
    }

    private func pages(pid: Int32, ranges: [AddressRange], from: Set<Int32>?, to: NodeID) -> ActionOutcome {
        let mover = PageMover(kernel: kernel, options: options)
        let to32 = Int32(to.rawValue)
        switch mover.candidates(pid: pid, ranges: ranges, from: from, target: { _ in to32 }, watch: NeverExits()) {
        case .success(let c):
            let bytes = UInt64(c.count) * kernel.pageSize
            let sources = c.sources.keys.sorted().map { "\(c.sources[$0] ?? 0) on node \($0)" }.joined(separator: ", ")
            return ActionOutcome(status: .wouldDo,
                                 summary: "would move \(c.count) pages (\(ByteCount.text(bytes))) to node \(to)"
                                     + (sources.isEmpty ? "" : " (\(sources))"),
                                 method: "move_pages query only")
        case .failure(let error):
            return .failed(error)
        }
    }
}

extension String {
    func replacingPrefix(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
