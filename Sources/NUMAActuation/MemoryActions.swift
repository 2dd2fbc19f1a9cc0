import NUMAModel
import NUMAProc

/// The two private-memory actions: a process's ranges to one node
/// (move_pages in budgeted batches), and everything of a process on some
/// nodes to one node (migrate_pages when the whole move fits the budget at
/// once, since one call cannot be paused; else move_pages in batches).
struct MemoryActions {
    let kernel: any KernelInterface
    let options: ActuationOptions
    var mover: PageMover { PageMover(kernel: kernel, options: options) }

    func moveRanges(_ action: MoveRanges, watch: any ProcessWatch, started: Double) -> ActionOutcome {
        let pid = action.process.pid
        let to = Int32(action.to.rawValue)
        let found = mover.candidates(pid: pid, ranges: action.ranges, target: { _ in to }, watch: watch)
        return carryOut(found, pid: pid, destination: action.to, watch: watch, started: started,
                        label: "pid \(pid): \(action.ranges.count) range(s) to node \(action.to)")
    }

    func movePages(_ action: MovePages, watch: any ProcessWatch, started: Double) -> ActionOutcome {
        let pid = action.process.pid
        let to = Int32(action.to.rawValue)
        let from = Set(action.from.map { Int32($0.rawValue) }).subtracting([to])
        guard !from.isEmpty else {
            return ActionOutcome(status: .done, summary: "nothing to move: source and destination are node \(action.to)")
        }
        let maps: [Mapping]
        switch kernel.mappings(pid) {
        case .success(let list): maps = list
        case .failure(let error):
            return .failed(watch.hasExited ? .exited(pid: pid) : error, seconds: kernel.now() - started)
        }
        let ranges = maps.filter(\.isEligibleForSampling).map { AddressRange(start: $0.start, end: $0.end) }
        let found = mover.candidates(pid: pid, ranges: ranges, from: from, target: { _ in to }, watch: watch)
        guard case .success(let candidates) = found else {
            return carryOut(found, pid: pid, destination: action.to, watch: watch, started: started, label: "")
        }
        let bytes = UInt64(candidates.count) * kernel.pageSize
        // A move split over several threads beats one migrate_pages call,
        // which copies on one CPU.
        let splits = PageMover.slices(pages: candidates.count, threads: options.parallelism).count > 1
        guard candidates.count > 0, options.budget.fitsNow(bytes), !splits,
              migratePagesStaysWithin(candidates, maps: maps, pid: pid, from: from, watch: watch) else {
            return carryOut(found, pid: pid, destination: action.to, watch: watch, started: started,
                            label: "pid \(pid): nodes \(from.sorted()) to node \(action.to)")
        }
        // One call for the whole move: it fits the budget's bucket now.
        options.budget.charge(bytes)
        let counterBefore = kernel.migratedPagesCounter()
        let result = kernel.migratePages(pid: pid, from: from.sorted().map { NodeID(Int($0)) }, to: [action.to])
        let counterAfter = kernel.migratedPagesCounter()
        let kernelPages = counterBefore.flatMap { b in counterAfter.map { $0 >= b ? $0 - b : 0 } }
        if case .failure(let error) = result {
            let classified = mover.classify(error, pid: pid, watch: watch)
            return .failed(classified, seconds: kernel.now() - started)
        }
        options.progress?(MoveProgress(action: "pid \(pid): migrate_pages", bytesDone: bytes, bytesTotal: bytes,
                                       seconds: kernel.now() - started))
        let tally = mover.verify(pid: pid, candidates,
                                 reasonLeft: "not migrated by the kernel (shared with another process, busy or pinned)")
        return tally.outcome(method: "migrate_pages", destination: "node \(action.to)", pageSize: kernel.pageSize,
                             seconds: kernel.now() - started, kernelPages: kernelPages)
    }

    /// migrate_pages moves every page of the process on the source nodes,
    /// file pages too (with CAP_SYS_NICE even a library's pages that other
    /// processes use): only worth it when those are under a tenth of the move.
    private func migratePagesStaysWithin(_ candidates: MoveCandidates, maps: [Mapping], pid: Int32,
                                         from: Set<Int32>, watch: any ProcessWatch) -> Bool {
        let others = maps.filter { !$0.isEligibleForSampling && !$0.isSpecial }
            .map { AddressRange(start: $0.start, end: $0.end) }
        guard !others.isEmpty else { return true }
        guard case .success(let extra) = mover.candidates(pid: pid, ranges: others, from: from, target: { _ in -1 },
                                                          watch: watch) else { return false }
        return extra.count * 10 <= candidates.count
    }

    private func carryOut(_ found: Result<MoveCandidates, ActuationError>, pid: Int32, destination: NodeID,
                          watch: any ProcessWatch, started: Double, label: String) -> ActionOutcome {
        let candidates: MoveCandidates
        switch found {
        case .success(let c): candidates = c
        case .failure(let error): return .failed(error, seconds: kernel.now() - started)
        }
        guard candidates.count > 0 else {
            return ActionOutcome(status: .done, summary: "nothing to move: every resident page is on node \(destination)",
                                 method: "move_pages query", seconds: kernel.now() - started)
        }
        let counterBefore = kernel.migratedPagesCounter()
        let tally = mover.move(pid: pid, candidates, moveShared: false, label: label, watch: watch, started: started)
        let counterAfter = kernel.migratedPagesCounter()
        let kernelPages = counterBefore.flatMap { b in counterAfter.map { $0 >= b ? $0 - b : 0 } }
        return tally.outcome(method: "move_pages in \(tally.batches) batch(es)", destination: "node \(destination)",
                             pageSize: kernel.pageSize, seconds: kernel.now() - started, kernelPages: kernelPages)
    }
}
