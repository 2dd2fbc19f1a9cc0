import NUMAModel
import NUMAProc
import NUMASystem
import Synchronization

/// Pages resident away from where they should go: found with a move_pages
/// query over the ranges, so only these are moved and every one is counted.
struct MoveCandidates {
    var addresses: [UInt64] = []
    var targets: [Int32] = []
    /// Pages per node they are on now.
    var sources: [Int32: Int] = [:]
    /// Base pages of each huge page entry (a hugetlb range: one address per huge page).
    var hugeEntries: [UInt64: Int] = [:]

    var count: Int { addresses.count }
    /// Base pages behind the entries: what the move carries.
    var basePages: Int { count + hugeEntries.values.reduce(0) { $0 + $1 - 1 } }
}

/// What a series of move_pages batches did.
struct MoveTally {
    enum End {
        case finished, exited, stopped, failed(ActuationError)
        /// Which end a move of several runs reports: the worst.
        var rank: Int {
            switch self {
            case .finished: 0
            case .stopped: 1
            case .exited: 2
            case .failed: 3
            }
        }
    }
    var end: End = .finished
    var moved = 0
    var notMoved: [String: Int] = [:]
    var batches = 0
    /// Pages that were busy or raced with a fault: tried once more at the end.
    var retry: [(address: UInt64, target: Int32)] = []
    /// Pages a call never reached (it stopped at an earlier failure): sent again.
    var unprocessed: [(address: UInt64, target: Int32)] = []
    /// Base pages of huge page entries, so `moved` counts base pages.
    var hugeEntries: [UInt64: Int] = [:]

    func weight(_ address: UInt64) -> Int { hugeEntries[address] ?? 1 }

    var notMovedList: [PagesNotMoved] {
        notMoved.keys.sorted().compactMap { key in notMoved[key].map { PagesNotMoved(reason: key, pages: $0) } }
    }
}

/// move_pages in batches of at most a burst of the budget, each batch
/// waiting for its tokens, with a check for exit and stop between batches;
/// every batch's statuses are tallied, and re-queried when the kernel says
/// some pages were not migrated (their status then still shows the target).
struct PageMover: Sendable {
    let kernel: any KernelInterface
    let options: ActuationOptions

    /// The resident pages of `ranges` whose node differs from `target(address)`,
    /// and (when `from` is given) that lie on one of those nodes.
    func candidates(pid: Int32, ranges: [AddressRange], from: Set<Int32>? = nil,
                    target: (UInt64) -> Int32, watch: any ProcessWatch) -> Result<MoveCandidates, ActuationError> {
        var result = MoveCandidates()
        let page = kernel.pageSize
        let chunk = UInt64(options.maxPagesPerCall)
        for range in ranges where range.end > range.start {
            // One address per page: a huge page is one entry, not 512.
            let step = max(page, range.pageBytes)
            let aligned = range.start - range.start % step
            // Only the pages present are asked their node: a sparse heap's
            // untouched gigabytes cost one pass over pagemap, not a query each.
            let present = kernel.presentPages(pid: pid, range: AddressRange(start: aligned, end: range.end), step: step)
            let total = present?.count ?? Int((range.end - aligned + step - 1) / step)
            var done = 0
            while done < total {
                let next = min(total, done + Int(chunk))
                let addresses = present.map { Array($0[done..<next]) }
                    ?? (done..<next).map { aligned + UInt64($0) * step }
                done = next
                switch kernel.queryPages(pid: pid, addresses: addresses) {
                case .success(let statuses):
                    for (address, node) in zip(addresses, statuses) where node >= 0 {
                        let wanted = target(address)
                        guard node != wanted, from.map({ $0.contains(node) }) ?? true else { continue }
                        result.addresses.append(address)
                        result.targets.append(wanted)
                        let basePages = step > page ? Int(step / page) : 1
                        if basePages > 1 { result.hugeEntries[address] = basePages }
                        result.sources[node, default: 0] += basePages
                    }
                case .failure(let error):
                    return .failure(classify(error, pid: pid, watch: watch))
                }
            }
        }
        return .success(result)
    }

    /// Moves the candidates in batches. `moveShared`: MPOL_MF_MOVE_ALL. A
    /// large move is cut in `options.parallelism` runs of pages that move
    /// at once, each on a thread of its own (the caller's CPUs: a node's
    /// mover), as the kernel migrates from every faulting thread at once.
    func move(pid: Int32, _ unordered: MoveCandidates, moveShared: Bool, label: String,
              watch: any ProcessWatch, started: Double) -> MoveTally {
        let candidates = Self.groupedByTarget(unordered)
        let slices = Self.slices(pages: candidates.count, threads: options.parallelism)
        let progress = MoveProgressCount(bytesTotal: UInt64(candidates.count) * kernel.pageSize)
        var tally: MoveTally
        var batch: Int
        if slices.count == 1 {
            (tally, batch) = moveSlice(pid: pid, candidates, slices[0], moveShared: moveShared, label: label,
                                       watch: watch, started: started, progress: progress)
        } else {
            let results = SliceResults()
            let mover = self
            ParallelThreads.run(parts: slices.count) { part in
                let result = mover.moveSlice(pid: pid, candidates, slices[part], moveShared: moveShared, label: label,
                                             watch: watch, started: started, progress: progress)
                results.put(part, result)
            }
            let parts = results.inOrder
            tally = MoveTally.merged(parts.map(\.0))
            batch = parts.map(\.1).max() ?? 1
        }
        tally.hugeEntries = unordered.hugeEntries
        guard case .finished = tally.end else { return tally }
        resend(pid: pid, moveShared: moveShared, batch: batch, watch: watch, tally: &tally)
        retryOnce(pid: pid, moveShared: moveShared, tally: &tally)
        return tally
    }

    /// One run of the candidates, batch after batch; returns its tally and
    /// the batch size it ended with.
    private func moveSlice(pid: Int32, _ candidates: MoveCandidates, _ slice: Range<Int>, moveShared: Bool,
                           label: String, watch: any ProcessWatch, started: Double,
                           progress: MoveProgressCount) -> (MoveTally, Int) {
        var tally = MoveTally()
        tally.hugeEntries = candidates.hugeEntries
        let page = kernel.pageSize
        let burst = options.budget.batchPages(pageSize: page, limit: options.maxPagesPerCall)
        // A call cannot be interrupted: batches sized to last about a quarter
        // of a second at the rate measured so far, so that a stop or an exit
        // is seen within about that on slow machines too (an emulated guest
        // copies some 10 MiB/s), starting at 16 MiB.
        var batch = min(burst, max(1, Int((16 << 20) / page)))
        var index = slice.lowerBound
        while index < slice.upperBound {
            if options.stop.isRequested { tally.end = .stopped; return (tally, batch) }
            if watch.hasExited { tally.end = .exited; return (tally, batch) }
            let end = min(slice.upperBound, index + batch)
            let addresses = Array(candidates.addresses[index..<end])
            let targets = Array(candidates.targets[index..<end])
            options.budget.take(UInt64(addresses.reduce(0) { $0 + tally.weight($1) }) * page)
            let callStart = kernel.now()
            switch kernel.movePages(pid: pid, addresses: addresses, nodes: targets, moveShared: moveShared) {
            case .success(let result):
                tally.batches += 1
                batch = Self.nextBatch(pages: addresses.count, seconds: kernel.now() - callStart, current: batch,
                                       limit: burst)
                record(result, addresses: addresses, targets: targets, pid: pid, into: &tally)
            case .failure(let error):
                let classified = classify(error, pid: pid, watch: watch)
                tally.end = classified == .exited(pid: pid) ? .exited : .failed(classified)
                return (tally, batch)
            }
            let done = progress.add(pages: end - index, pageSize: page)
            index = end
            options.progress?(MoveProgress(action: label, bytesDone: done, bytesTotal: progress.bytesTotal,
                                           seconds: kernel.now() - started))
        }
        return (tally, batch)
    }

    /// Contiguous runs of the candidates, one per thread: no more threads
    /// than `threads`, and none with under `minSlicePages` (16 MiB) to move.
    static func slices(pages: Int, threads: Int) -> [Range<Int>] {
        let parts = max(1, min(threads, pages / minSlicePages))
        guard parts > 1 else { return [0..<pages] }
        let size = (pages + parts - 1) / parts
        return (0..<parts).map { part in part * size ..< min(pages, (part + 1) * size) }.filter { !$0.isEmpty }
    }

    static let minSlicePages = 4096

    /// The pages calls stopped short of, sent again (each call gets at least
    /// one run of pages through), for a few passes; what is left then is
    /// reported, not silently counted as left where it was.
    private func resend(pid: Int32, moveShared: Bool, batch: Int, watch: any ProcessWatch,
                        tally: inout MoveTally) {
        var passes = 0
        while !tally.unprocessed.isEmpty, passes < 4, !options.stop.isRequested, !watch.hasExited {
            let pending = tally.unprocessed
            tally.unprocessed = []
            var index = 0
            while index < pending.count {
                let end = min(pending.count, index + max(1, batch))
                let addresses = pending[index..<end].map(\.address), targets = pending[index..<end].map(\.target)
                options.budget.take(UInt64(addresses.reduce(0) { $0 + tally.weight($1) }) * kernel.pageSize)
                guard case .success(let result) = kernel.movePages(pid: pid, addresses: addresses, nodes: targets,
                                                                  moveShared: moveShared) else { break }
                tally.batches += 1
                record(result, addresses: addresses, targets: targets, pid: pid, into: &tally)
                index = end
            }
            passes += 1
        }
        if !tally.unprocessed.isEmpty {
            tally.notMoved["not reached: move_pages stopped at pages that failed before them",
                           default: 0] += tally.unprocessed.count
            tally.unprocessed = []
        }
    }

    /// The candidates with each target node's pages together (in address
    /// order within a node). move_pages migrates a run of pages bound for one
    /// node at a time, and the first run that fails ends the call: with
    /// interleaved targets (1, 3, 1, 3, …) one busy page would leave the rest
    /// of the batch unprocessed.
    static func groupedByTarget(_ candidates: MoveCandidates) -> MoveCandidates {
        guard Set(candidates.targets).count > 1 else { return candidates }
        let order = candidates.addresses.indices.sorted { a, b in
            let ta = candidates.targets[a], tb = candidates.targets[b]
            return ta != tb ? ta < tb : candidates.addresses[a] < candidates.addresses[b]
        }
        var grouped = candidates
        grouped.addresses = order.map { candidates.addresses[$0] }
        grouped.targets = order.map { candidates.targets[$0] }
        return grouped
    }

    /// The pages a call moves in about `PageMover.callSeconds` at the rate
    /// the last one ran (at least 256, at most the budget's burst); the
    /// current size when the call took no measurable time.
    static func nextBatch(pages: Int, seconds: Double, current: Int, limit: Int) -> Int {
        guard seconds > 0.001, pages > 0 else { return current }
        let rate = Double(pages) / seconds
        return max(min(256, limit), min(limit, Int(rate * callSeconds)))
    }

    static let callSeconds = 0.25

    /// Busy pages are often busy only for a moment (a writer mid-fault):
    /// one more try after the batches, counted again from scratch.
    private func retryOnce(pid: Int32, moveShared: Bool, tally: inout MoveTally) {
        let pages = tally.retry
        tally.retry = []
        guard !pages.isEmpty, pages.count <= options.maxPagesPerCall else { return }
        let addresses = pages.map(\.address), targets = pages.map(\.target)
        guard case .success(let result) = kernel.movePages(pid: pid, addresses: addresses, nodes: targets,
                                                          moveShared: moveShared) else { return }
        var again = MoveTally()
        record(result, addresses: addresses, targets: targets, pid: pid, into: &again)
        // Those pages were counted as not moved: take them out, count them anew.
        for key in [PageStatusText.busyReason, PageStatusText.raceReason] { tally.notMoved[key] = nil }
        tally.moved += again.moved
        tally.notMoved.merge(again.notMoved, uniquingKeysWith: +)
    }

    /// Counts one batch: a page on its target moved, a negative status is
    /// the kernel's reason; pages the kernel counted as not migrated are
    /// found by asking again where they are.
    private func record(_ result: PageMoveResult, addresses: [UInt64], targets: [Int32], pid: Int32,
                        into tally: inout MoveTally) {
        var statuses = result.statuses
        if result.notMigrated > 0, case .success(let now) = kernel.queryPages(pid: pid, addresses: addresses) {
            for i in statuses.indices where statuses[i] == targets[i] && now[i] != targets[i] {
                statuses[i] = now[i] >= 0 ? -1000 - now[i] : now[i]
            }
        }
        for (address, (status, target)) in zip(addresses, zip(statuses, targets)) {
            if status == PageMoveResult.unprocessed {
                tally.unprocessed.append((address, target))
                continue
            }
            if status == -16 {
                tally.retry.append((address, target))
            }
            if status == target {
                tally.moved += tally.weight(address)
            } else if status <= -1000 {
                tally.notMoved[PageStatusText.raceReason, default: 0] += 1
                tally.retry.append((address, target))
            } else if status >= 0 {
                tally.notMoved["left on node \(status)", default: 0] += 1
            } else if status != -2 && status != -14 {
                // -ENOENT/-EFAULT: freed since the query, nothing to move.
                tally.notMoved[PageStatusText.reason(errno: -status), default: 0] += 1
            }
        }
    }

    /// After one uninterruptible call (migrate_pages, mbind): where the
    /// candidates are now.
    func verify(pid: Int32, _ candidates: MoveCandidates, reasonLeft: String) -> MoveTally {
        var tally = MoveTally()
        tally.hugeEntries = candidates.hugeEntries
        let chunk = max(1, options.maxPagesPerCall)
        var index = 0
        while index < candidates.count {
            let end = min(candidates.count, index + chunk)
            let addresses = Array(candidates.addresses[index..<end])
            guard case .success(let statuses) = kernel.queryPages(pid: pid, addresses: addresses) else {
                tally.end = .exited
                return tally
            }
            for (i, (status, target)) in zip(statuses, candidates.targets[index..<end]).enumerated() {
                let weight = tally.weight(addresses[i])
                if status == target { tally.moved += weight } else if status >= 0 { tally.notMoved[reasonLeft, default: 0] += weight }
            }
            index = end
        }
        return tally
    }

    /// ESRCH or an exited process is `.exited`; EPERM/EACCES name the capability.
    func classify(_ error: SystemError, pid: Int32, watch: any ProcessWatch) -> ActuationError {
        if error.errno == Errno.noSuchProcess || watch.hasExited { return .exited(pid: pid) }
        // EINVAL is also what move_pages and migrate_pages say of a process
        // whose memory is already gone: exiting, before a pidfd or its state tell.
        if error.errno == Errno.invalid {
            switch kernel.process(pid) {
            case .success(let facts) where facts.isExitingOrZombie: return .exited(pid: pid)
            case .failure(.noSuchProcess): return .exited(pid: pid)
            default: break
            }
        }
        if error.errno == Errno.notPermitted || error.errno == Errno.accessDenied {
            return .notPermitted("not permitted: \(error); moving another user's pages needs CAP_SYS_PTRACE "
                + "(the kernel's ptrace read check), moving shared pages or to nodes outside the "
                + "process's cpuset needs CAP_SYS_NICE")
        }
        return .failed(error)
    }
}

extension MoveTally {
    /// The tallies of runs that moved at once, as one: every page counted,
    /// and the worst end (a failure, else an exit, else a stop).
    static func merged(_ parts: [MoveTally]) -> MoveTally {
        var all = MoveTally()
        for part in parts {
            all.moved += part.moved
            all.batches += part.batches
            all.notMoved.merge(part.notMoved, uniquingKeysWith: +)
            all.retry += part.retry
            all.unprocessed += part.unprocessed
            all.hugeEntries.merge(part.hugeEntries) { a, _ in a }
            if part.end.rank > all.end.rank { all.end = part.end }
        }
        return all
    }

    /// The outcome of a memory action from its tally.
    func outcome(method: String, destination: String, pageSize: UInt64, seconds: Double,
                 kernelPages: UInt64? = nil) -> ActionOutcome {
        let bytes = UInt64(moved) * pageSize
        let movedText = "moved \(moved) pages (\(ByteCount.text(bytes))) to \(destination)"
        var outcome = ActionOutcome(status: .done, summary: movedText, method: method, pagesMoved: moved,
                                    bytesMoved: bytes, notMoved: notMovedList, seconds: seconds,
                                    kernelMigratedPages: kernelPages)
        switch end {
        case .finished:
            let failures = notMoved.filter { $0.key != PageStatusText.sharedReason && $0.value > 0 }
            outcome.status = failures.isEmpty ? .done : .partial
        case .exited: outcome.status = .exited; outcome.summary = "the process exited; " + movedText + " before"
        case .stopped: outcome.status = .stopped; outcome.summary = "stopped on request; " + movedText + " before"
        case .failed(let error):
            outcome.status = .failed
            outcome.error = error.description
        }
        return outcome
    }
}

/// Pages done over every run of one move, for its progress reports.
final class MoveProgressCount: Sendable {
    let bytesTotal: UInt64
    private let pages = Atomic<Int>(0)

    init(bytesTotal: UInt64) { self.bytesTotal = bytesTotal }

    /// Adds a batch; returns the bytes done so far.
    func add(pages count: Int, pageSize: UInt64) -> UInt64 {
        UInt64(pages.add(count, ordering: .relaxed).newValue) * pageSize
    }
}

/// Each run's tally and last batch size, kept by run.
private final class SliceResults: Sendable {
    private let results = Mutex<[Int: (MoveTally, Int)]>([:])

    func put(_ part: Int, _ result: (MoveTally, Int)) { results.withLock { $0[part] = result } }
    var inOrder: [(MoveTally, Int)] { results.withLock { r in r.keys.sorted().compactMap { r[$0] } } }
}
