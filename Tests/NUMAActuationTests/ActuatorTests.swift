import Foundation
@testable import NUMAActuation
import NUMAModel
import NUMAProc
import Testing

/// A reason for the actions the tests build by hand.
let testReason = Reason(rule: .memoryFollowsCPU, summary: "test")

func options(_ kernel: RecordingKernel, rate: Double = 1_073_741_824, pagesPerCall: Int = 65_536) -> ActuationOptions {
    ActuationOptions(budget: TokenBucket(bytesPerSecond: rate, clock: kernel), maxPagesPerCall: pagesPerCall, selfPID: 99)
}

@Suite("Actuator over a recording kernel")
struct ActuatorTests {
    @Test("move_pages goes in batches of at most one second of the budget, waiting for tokens")
    func tokenBucketBatches() {
        let kernel = RecordingKernel()
        kernel.addProcess(pid: 10)
        kernel.addPages(pid: 10, start: 0x10000, count: 1000, node: 0)
        // 100 pages a second: 10 batches of 100, nine of them waiting a second.
        let actuator = LinuxActuator(kernel: kernel, options: options(kernel, rate: 100 * 4096))
        let action = Action.moveRanges(MoveRanges(process: kernel.identity(10),
                                                  ranges: [AddressRange(start: 0x10000, end: 0x10000 + 1000 * 4096)],
                                                  to: 1, bytes: 1000 * 4096, reason: testReason))
        let record = actuator.perform(action)
        #expect(record.outcome.status == .done)
        #expect(record.outcome.pagesMoved == 1000)
        #expect(record.outcome.bytesMoved == 1000 * 4096)
        let batches = kernel.state.withLock { $0.moveBatches }
        #expect(batches == Array(repeating: 100, count: 10))
        let slept = kernel.state.withLock { $0.slept }
        #expect(abs(slept - 9) < 0.01, "slept \(slept) s")
        #expect(kernel.nodes(of: 10) == [1: 1000])
    }

    @Test("a hugetlb range moves one move_pages entry per huge page, and its pages are counted in base pages")
    func hugePagesOneEntryEach() {
        let kernel = RecordingKernel()
        kernel.addProcess(pid: 10)
        // 4 MiB of 2 MiB huge pages: every address inside answers its node, as the kernel does.
        kernel.addPages(pid: 10, start: 0x4000_0000, count: 1024, node: 0)
        let actuator = LinuxActuator(kernel: kernel, options: options(kernel))
        let range = AddressRange(start: 0x4000_0000, end: 0x4000_0000 + (4 << 20), pageBytes: 2 << 20)
        let record = actuator.perform(.moveRanges(MoveRanges(process: kernel.identity(10), ranges: [range], to: 1,
                                                             bytes: 4 << 20, reason: testReason)))
        #expect(record.outcome.status == .done)
        let entries = kernel.state.withLock { $0.moveBatches }.reduce(0, +)
        #expect(entries == 2, "\(entries) move_pages entries for two huge pages")
        #expect(record.outcome.pagesMoved == 1024)
        #expect(record.outcome.bytesMoved == 4 << 20)
    }

    @Test("a sparse range: only the pages pagemap says are present are asked their node; all of them asked without it")
    func sparseRangeAsksPresentPagesOnly() {
        // 1 GiB reserved, 64 pages resident in two places (a JVM heap's shape).
        let start: UInt64 = 0x4000_0000, gib: UInt64 = 1 << 30
        for readable in [true, false] {
            let kernel = RecordingKernel()
            kernel.addProcess(pid: 10)
            kernel.addPages(pid: 10, start: start, count: 32, node: 0)
            kernel.addPages(pid: 10, start: start + gib / 2, count: 32, node: 0)
            kernel.state.withLock { $0.pagemapReadable = readable }
            let actuator = LinuxActuator(kernel: kernel, options: options(kernel))
            let record = actuator.perform(.moveRanges(MoveRanges(
                process: kernel.identity(10), ranges: [AddressRange(start: start, end: start + gib)], to: 1,
                bytes: 64 * 4096, reason: testReason)))
            #expect(record.outcome.pagesMoved == 64)
            let asked = kernel.state.withLock { $0.calls }.filter { $0.hasPrefix("query 10 ") }
                .compactMap { Int($0.split(separator: " ").last ?? "") }.reduce(0, +)
            // The move's own re-query of what it moved comes on top.
            if readable { #expect(asked <= 2 * 64, "\(asked) pages asked") } else { #expect(asked >= Int(gib / 4096)) }
        }
    }

    @Test("pagemap of this process: exactly the touched pages of a sparse mapping are present")
    func pagemapPresentBit() throws {
        let size = 64 << 20, page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let base = try #require(mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0))
        defer { munmap(base, size) }
        let touched = [0, 5, 4096, 16383].map { $0 * page }
        for offset in touched { base.storeBytes(of: 1, toByteOffset: offset, as: UInt8.self) }
        let start = UInt64(UInt(bitPattern: base))
        let present = try #require(PageMap.presentPages(pid: getpid(), start: start, end: start + UInt64(size),
                                                        pageSize: UInt64(page), step: UInt64(page)))
        #expect(present == touched.map { start + UInt64($0) })
        // Every 2 MiB: the entries of those steps' first base pages only (a hugetlb range's step).
        let huge = try #require(PageMap.presentPages(pid: getpid(), start: start, end: start + UInt64(size),
                                                     pageSize: UInt64(page), step: UInt64(512 * page)))
        #expect(huge == [start, start + UInt64(4096 * page)])
    }

    @Test("on a slow machine move_pages batches shrink to about a quarter of a second each")
    func batchesFollowTheMeasuredRate() {
        let kernel = RecordingKernel()
        kernel.addProcess(pid: 10)
        kernel.addPages(pid: 10, start: 0x10000, count: 10_000, node: 0)
        // 2,000 pages (8 MiB) a second, an emulated guest's pace; a budget of 1 GiB/s.
        kernel.state.withLock { $0.secondsPerMovedPage = 1.0 / 2000 }
        let actuator = LinuxActuator(kernel: kernel, options: options(kernel, rate: 1_073_741_824))
        let record = actuator.perform(.moveRanges(MoveRanges(
            process: kernel.identity(10), ranges: [AddressRange(start: 0x10000, end: 0x10000 + 10_000 * 4096)],
            to: 1, bytes: 10_000 * 4096, reason: testReason)))
        #expect(record.outcome.pagesMoved == 10_000)
        let batches = kernel.state.withLock { $0.moveBatches }
        #expect(batches.first == 4096, "16 MiB to start")
        // About a quarter of a second each at the measured 2,000 pages/s: 500
        // pages, the last batch whatever is left.
        #expect(batches.dropFirst().dropLast().allSatisfy { (400...500).contains($0) }, "\(batches)")
        #expect((batches.last ?? 0) <= 500, "\(batches)")
        #expect(batches.reduce(0, +) == 10_000)
        #expect(PageMover.nextBatch(pages: 100, seconds: 0, current: 64, limit: 1000) == 64)
        #expect(PageMover.nextBatch(pages: 1, seconds: 10, current: 64, limit: 1000) == 256)
        #expect(PageMover.nextBatch(pages: 1_000_000, seconds: 1, current: 64, limit: 1000) == 1000)
    }

    @Test("pages bound for several nodes go grouped by node, and pages a call never reached are sent again")
    func unprocessedPagesAreSentAgain() {
        let kernel = RecordingKernel()
        kernel.addProcess(pid: 10)
        kernel.addPages(pid: 10, start: 0x10000, count: 64, node: 0)
        kernel.state.withLock { $0.oneRunPerCall = true }
        let mover = PageMover(kernel: kernel, options: options(kernel, rate: 1_073_741_824))
        // Interleaved targets, 1, 3, 1, 3, …: as an interleave policy wants them.
        var candidates = MoveCandidates()
        for i in 0..<64 {
            candidates.addresses.append(0x10000 + UInt64(i) * 4096)
            candidates.targets.append(i % 2 == 0 ? 1 : 3)
        }
        let tally = mover.move(pid: 10, candidates, moveShared: false, label: "test", watch: NeverExits(),
                               started: kernel.now())
        #expect(tally.moved == 64, "\(tally.notMoved)")
        #expect(tally.notMoved.isEmpty)
        #expect(kernel.nodes(of: 10) == [1: 32, 3: 32])
        #expect(PageMover.groupedByTarget(candidates).targets == Array(repeating: 1, count: 32) + Array(repeating: 3, count: 32))
    }

    @Test("a whole-process move that fits the budget at once is one migrate_pages call")
    func migratePagesWhenItFits() {
        let kernel = RecordingKernel()
        kernel.addProcess(pid: 10)
        kernel.addPages(pid: 10, start: 0x10000, count: 300, node: 0)
        kernel.addPages(pid: 10, start: 0x900000, count: 100, node: 1)
        let actuator = LinuxActuator(kernel: kernel, options: options(kernel))
        let record = actuator.perform(.movePages(MovePages(process: kernel.identity(10), from: [0], to: 1,
                                                           bytes: 300 * 4096, reason: testReason)))
        #expect(record.outcome.method == "migrate_pages")
        #expect(record.outcome.pagesMoved == 300)
        #expect(kernel.changes == ["migrate_pages 10 [0] [1]"])
    }

    @Test("a whole-process move larger than a second of budget falls back to move_pages batches")
    func movePagesWhenTooBig() {
        let kernel = RecordingKernel()
        kernel.addProcess(pid: 10)
        kernel.addPages(pid: 10, start: 0x10000, count: 300, node: 0)
        let actuator = LinuxActuator(kernel: kernel, options: options(kernel, rate: 100 * 4096))
        let record = actuator.perform(.movePages(MovePages(process: kernel.identity(10), from: [0], to: 1,
                                                           bytes: 300 * 4096, reason: testReason)))
        #expect(record.outcome.method == "move_pages in 3 batch(es)")
        #expect(record.outcome.pagesMoved == 300)
        #expect(!kernel.changes.contains { $0.hasPrefix("migrate_pages") })
    }

    @Test("a reused pid, pid 1, numabalance itself and kernel threads are never acted on")
    func identityChecks() {
        let kernel = RecordingKernel()
        kernel.addProcess(pid: 10, startTime: 2000)
        kernel.addProcess(pid: 1)
        kernel.addProcess(pid: 99)
        kernel.addProcess(pid: 2, kernelThread: true)
        let actuator = LinuxActuator(kernel: kernel, options: options(kernel))
        let stale = ProcessIdentity(pid: 10, startTime: 1000)
        for identity in [stale, kernel.identity(1), kernel.identity(99), kernel.identity(2)] {
            let record = actuator.perform(.setAffinity(SetAffinity(process: identity, cpus: CPUSet([0]), nodes: [0],
                                                                   reason: testReason)))
            #expect(record.outcome.status == .failed, "acted on \(identity)")
        }
        #expect(kernel.changes.isEmpty)
    }

    @Test("affinity is set on every thread, including one born during the pass")
    func affinityEveryThread() {
        let kernel = RecordingKernel()
        kernel.addProcess(pid: 10, threads: [10, 11, 12])
        let actuator = LinuxActuator(kernel: kernel, options: options(kernel))
        let record = actuator.perform(.setAffinity(SetAffinity(process: kernel.identity(10), cpus: CPUSet([2, 3]),
                                                               nodes: [1], reason: testReason)))
        #expect(record.outcome.status == .done)
        #expect(record.outcome.threads == 3)
        #expect(record.replaced?.affinity?.map(\.tid) == [10, 11, 12])
        #expect(kernel.state.withLock { s in [10, 11, 12].allSatisfy { s.affinity[$0] == CPUSet([2, 3]) } })
    }

    /// Security review 4.3: a thread born of a thread not yet set inherits the
    /// old mask; when every pass still finds new ones the act is not done.
    @Test("threads still appearing after the last affinity pass: partial, saying so; a quiet pass: done")
    func threadsKeepAppearing() {
        for growing in [true, false] {
            let kernel = RecordingKernel()
            kernel.addProcess(pid: 10, threads: [10, 11])
            if growing { kernel.state.withLock { $0.spawnsOnListing = [10] } }
            let record = LinuxActuator(kernel: kernel, options: options(kernel)).perform(
                .setAffinity(SetAffinity(process: kernel.identity(10), cpus: CPUSet([2, 3]), nodes: [1], reason: testReason)))
            #expect(record.outcome.status == (growing ? .partial : .done), "\(record.outcome)")
            #expect(record.outcome.summary.contains("kept appearing") == growing, "\(record.outcome.summary)")
        }
    }
}
