import NUMAModel
import NUMAProc
import NUMASystem

/// Gives a shared object a memory policy and moves its resident pages
/// (DESIGN.md, "Actuation" (a)): map the object ourselves in windows, bring
/// its already-resident pages into our page tables (mincore, then a read of
/// those pages only: a hole read would allocate), then mbind. The policy
/// lives on the object, so later faults by every process that maps it follow.
struct ObjectPolicySetter {
    let kernel: any KernelInterface
    let options: ActuationOptions

    func apply(_ action: SetObjectPolicy, started: Double) -> (ActionOutcome, Replaced?) {
        let pid = action.via.pid
        let maps: [Mapping]
        switch kernel.mappings(pid) {
        case .success(let list): maps = list
        case .failure(let error): return (.failed(error, seconds: kernel.now() - started), nil)
        }
        let targets = action.mappings(in: maps)
        guard !targets.isEmpty else {
            return (ActionOutcome(status: .failed, summary: "not done",
                                  error: "pid \(pid) no longer maps \(action.objectKey) at \(action.ranges.map(\.description))"), nil)
        }
        let policy = MemoryPolicySpec(action.policy, nodes: action.nodes)
        var old: MemoryPolicySpec?
        var tally = MoveTally()
        var methods = Set<String>()
        for mapping in targets {
            var offset: UInt64 = 0
            while offset < mapping.bytes {
                // A stop request is honoured between windows (each is one mbind call).
                if options.stop.isRequested, offset > 0 || tally.moved > 0 {
                    var outcome = tally.outcome(method: methods.sorted().joined(separator: ", "),
                                                destination: "\(policy)", pageSize: kernel.pageSize,
                                                seconds: kernel.now() - started)
                    outcome.status = .stopped
                    outcome.summary = "stopped on request after \(offset >> 20) MiB of \(mapping.bytes >> 20) MiB; " + outcome.summary
                    return (outcome, old.map { Replaced(objectPolicy: $0) })
                }
                let window = offset..<min(mapping.bytes, offset + max(options.objectWindowBytes, kernel.pageSize))
                offset = window.upperBound
                let view: any SharedObjectView
                switch kernel.openSharedObject(pid: pid, mapping: mapping, window: window) {
                case .success(let v): view = v
                case .failure(let error):
                    if viaExited(error, pid: pid) {
                        // Another member goes through next round: an exit, no cool-down.
                        return (ActionOutcome(status: .exited, summary: "pid \(pid) exited before its mapping of "
                                                + "\(action.objectKey) was opened (\(error))", pagesMoved: tally.moved,
                                              seconds: kernel.now() - started), old.map { Replaced(objectPolicy: $0) })
                    }
                    let outcome = ActionOutcome(status: tally.moved > 0 ? .partial : .failed, summary: "not done",
                                                pagesMoved: tally.moved, error: explain(error, mapping: mapping))
                    return (outcome, old.map { Replaced(objectPolicy: $0) })
                }
                defer { view.close() }
                if old == nil { old = try? view.policy().get() }
                switch applyWindow(view, policy: policy, moveExisting: action.moveExisting, tally: &tally) {
                case .success(let method):
                    methods.insert(method)
                    options.progress?(MoveProgress(action: "mbind \(action.objectKey)", bytesDone: offset,
                                                   bytesTotal: mapping.bytes, seconds: kernel.now() - started))
                case .failure(let error):
                    var outcome = tally.outcome(method: methods.sorted().joined(separator: ", "),
                                                destination: "\(policy)", pageSize: kernel.pageSize,
                                                seconds: kernel.now() - started)
                    outcome.status = .failed
                    outcome.error = explain(error, mapping: mapping)
                    return (outcome, old.map { Replaced(objectPolicy: $0) })
                }
            }
        }
        var outcome = tally.outcome(method: methods.sorted().joined(separator: ", "), destination: "\(policy)",
                                    pageSize: kernel.pageSize, seconds: kernel.now() - started)
        outcome.summary = "policy \(policy) set on \(action.objectKey); " + outcome.summary
        return (outcome, old.map { Replaced(objectPolicy: $0) })
    }

    /// One window: populate, find the pages away from their node, then one
    /// mbind with MPOL_MF_MOVE_ALL when the move fits the budget at once,
    /// else mbind to set the policy and move_pages in budgeted batches.
    /// The object's policy before the act, for the journal's intent line: a
    /// kill -9 between two windows leaves the object half changed, and
    /// `restore` then needs what it was (security review 6.1). Nil when the
    /// object cannot be reached now (the act will say why).
    func currentPolicy(_ action: SetObjectPolicy) -> MemoryPolicySpec? {
        guard case .success(let maps) = kernel.mappings(action.via.pid),
              let mapping = action.mappings(in: maps).first,
              case .success(let view) = kernel.openSharedObject(pid: action.via.pid, mapping: mapping,
                                                                 window: 0..<min(mapping.bytes, kernel.pageSize))
        else { return nil }
        defer { view.close() }
        return try? view.policy().get()
    }

    private func applyWindow(_ view: any SharedObjectView, policy: MemoryPolicySpec, moveExisting: Bool,
                             tally: inout MoveTally) -> Result<String, SystemError> {
        guard moveExisting else { return view.applyPolicy(policy, moveShared: false).map { "mbind" } }
        let page = kernel.pageSize
        let resident: [Int]
        switch view.residentPages() {
        case .success(let pages): resident = pages
        case .failure(let error): return .failure(error)
        }
        let gone = view.populate(pages: resident)
        if gone > 0 { tally.notMoved["gone: the object shrank while it was read", default: 0] += gone }
        let range = AddressRange(start: view.base, end: view.base + view.length)
        let target = Self.target(policy, view: view, pageSize: page)
        let mover = PageMover(kernel: kernel, options: options)
        let noWatch = NeverExits()
        guard case .success(let candidates) = mover.candidates(pid: 0, ranges: [range], target: target,
                                                               watch: noWatch) else {
            return view.applyPolicy(policy, moveShared: false).map { "mbind" }
        }
        let bytes = UInt64(candidates.count) * page
        if policy.mode != .interleave, options.budget.fitsNow(bytes) {
            options.budget.charge(bytes)
            if case .failure(let error) = view.applyPolicy(policy, moveShared: candidates.count > 0) {
                return .failure(error)
            }
            var verified = mover.verify(pid: 0, candidates, reasonLeft: "not migrated by the kernel (busy or pinned)")
            if verified.moved < candidates.count {
                // A page a writer held at that moment: one more try, page by page.
                verified = retryLeftovers(candidates, mover: mover, first: verified)
            }
            tally.moved += verified.moved
            tally.notMoved.merge(verified.notMoved, uniquingKeysWith: +)
            return .success("mbind MPOL_MF_MOVE_ALL")
        }
        if case .failure(let error) = view.applyPolicy(policy, moveShared: false) { return .failure(error) }
        let moved = mover.move(pid: 0, candidates, moveShared: true, label: "shared object to \(policy)",
                               watch: noWatch, started: kernel.now())
        tally.moved += moved.moved
        tally.notMoved.merge(moved.notMoved, uniquingKeysWith: +)
        tally.batches += moved.batches
        if case .failed(let error) = moved.end, case .failed(let syscall) = error { return .failure(syscall) }
        return .success("mbind, then move_pages MPOL_MF_MOVE_ALL")
    }

    /// Moves the pages mbind left behind with move_pages (MPOL_MF_MOVE_ALL),
    /// then counts all the candidates again.
    private func retryLeftovers(_ candidates: MoveCandidates, mover: PageMover, first: MoveTally) -> MoveTally {
        guard case .success(let now) = kernel.queryPages(pid: 0, addresses: candidates.addresses) else { return first }
        var left = MoveCandidates()
        for (i, node) in now.enumerated() where node >= 0 && node != candidates.targets[i] {
            left.addresses.append(candidates.addresses[i])
            left.targets.append(candidates.targets[i])
        }
        _ = mover.move(pid: 0, left, moveShared: true, label: "shared object, retry", watch: NeverExits(),
                       started: kernel.now())
        return mover.verify(pid: 0, candidates, reasonLeft: "not migrated by the kernel (busy or pinned)")
    }

    /// The node a page of the object should be on: the policy's first node,
    /// or for interleave the node the kernel's interleave gives its offset.
    static func target(_ policy: MemoryPolicySpec, view: any SharedObjectView, pageSize: UInt64) -> (UInt64) -> Int32 {
        let nodes = policy.nodes.sorted().map { Int32($0.rawValue) }
        guard let first = nodes.first else { return { _ in -1 } }
        guard policy.mode == .interleave, nodes.count > 1 else { return { _ in first } }
        let base = view.base, offset = view.objectPageOffset
        return { address in nodes[Int((offset + (address - base) / pageSize) % UInt64(nodes.count))] }
    }

    /// The process the object is reached through went away (its map_files
    /// entry is gone, ENOENT, or the process, ESRCH): a PostgreSQL backend
    /// whose client disconnected between the plan and the act.
    private func viaExited(_ error: SystemError, pid: Int32) -> Bool {
        guard error.errno == Errno.notFound || error.errno == Errno.noSuchProcess else { return false }
        switch kernel.process(pid) {
        case .success(let facts): return facts.isExitingOrZombie
        case .failure(.noSuchProcess): return true
        case .failure: return false
        }
    }

    /// The capability a refusal points at, by the door used.
    private func explain(_ error: SystemError, mapping: Mapping) -> String {
        guard error.errno == Errno.notPermitted || error.errno == Errno.accessDenied else { return error.description }
        if error.operation.hasPrefix("refused") { return error.description }
        if error.operation.hasPrefix("open of /proc") {
            return "not permitted: \(error); /proc/PID/map_files needs CAP_CHECKPOINT_RESTORE (Linux 5.9+) or CAP_SYS_ADMIN, "
                + "and CAP_DAC_READ_SEARCH for another user's process (the folder is mode 0500)"
        }
        return "not permitted: \(error); MPOL_MF_MOVE_ALL (moving pages several processes map) needs CAP_SYS_NICE"
    }
}

/// Our own address space never exits under us.
struct NeverExits: ProcessWatch {
    var hasExited: Bool { false }
    func close() {}
}

extension SetObjectPolicy {
    /// The mappings of the object the act goes through: the ranges planned,
    /// still mapping that object (never another one mapped there since).
    func mappings(in maps: [Mapping]) -> [Mapping] {
        let starts = Set(ranges.map(\.start))
        return maps.filter { starts.contains($0.start) && $0.sharedObject?.key == objectKey }
    }
}
