@testable import NUMAActuation
import NUMAModel
import NUMASystem
import Testing

/// A node's mover splits a large move over the node's CPUs: runs of pages
/// that move at once, each on its own thread, counted as one move.
@Suite("a large move split over threads")
struct ParallelMoveTests {
    let pages = 4 * 4096 + 100

    func splitOptions(_ kernel: RecordingKernel, threads: Int, stop: StopSignal = StopSignal()) -> ActuationOptions {
        var o = ActuationOptions(budget: TokenBucket(bytesPerSecond: 1_099_511_627_776, clock: kernel), stop: stop, selfPID: 99)
        o.parallelism = threads
        return o
    }

    @Test("four threads: move_pages from four threads, every page moved and counted once")
    func splitOverFour() {
        let kernel = RecordingKernel()
        kernel.addProcess(pid: 10)
        kernel.addPages(pid: 10, start: 0x10000, count: pages, node: 0)
        let record = LinuxActuator(kernel: kernel, options: splitOptions(kernel, threads: 4))
            .perform(.movePages(MovePages(process: kernel.identity(10), from: [0], to: 1,
                                          bytes: UInt64(pages) * 4096, reason: testReason)))
        #expect(record.outcome.status == .done)
        #expect(record.outcome.pagesMoved == pages)
        #expect(kernel.nodes(of: 10) == [1: pages])
        // Split, not one migrate_pages call that copies on one CPU.
        #expect(!kernel.changes.contains { $0.hasPrefix("migrate_pages") })
        let threads = kernel.state.withLock { $0.moveThreads.count }
        #expect(threads == 4, "move_pages ran on \(threads) thread(s)")
        let batches = kernel.state.withLock { $0.moveBatches }
        #expect(batches.reduce(0, +) == pages, "a page sent twice or not at all: \(batches)")
    }

    @Test("no run under 16 MiB: a small move stays on one thread, more threads than runs use fewer")
    func slices() {
        #expect(PageMover.slices(pages: 4095, threads: 8) == [0..<4095])
        #expect(PageMover.slices(pages: 3 * 4096, threads: 8).count == 3)
        #expect(PageMover.slices(pages: 3 * 4096 + 1, threads: 2) == [0..<6145, 6145..<12289])
        #expect(PageMover.slices(pages: 0, threads: 4) == [0..<0])
    }

    @Test("a stop request ends every run; what moved before it is counted")
    func stopEndsEveryRun() {
        let kernel = RecordingKernel()
        kernel.addProcess(pid: 10)
        kernel.addPages(pid: 10, start: 0x10000, count: pages, node: 0)
        let stop = StopSignal()
        stop.request()
        let record = LinuxActuator(kernel: kernel, options: splitOptions(kernel, threads: 4, stop: stop))
            .perform(.movePages(MovePages(process: kernel.identity(10), from: [0], to: 1,
                                          bytes: UInt64(pages) * 4096, reason: testReason)))
        #expect(record.outcome.status == .stopped)
        #expect(record.outcome.pagesMoved == 0)
        #expect(kernel.nodes(of: 10) == [0: pages])
    }

    @Test("the process exits during a split move: the move says so, with the pages moved before")
    func exitDuringSplitMove() {
        let kernel = RecordingKernel()
        kernel.addProcess(pid: 10)
        kernel.addPages(pid: 10, start: 0x10000, count: pages, node: 0)
        kernel.state.withLock { $0.exitAfterMoves[10] = 2 }
        let record = LinuxActuator(kernel: kernel, options: splitOptions(kernel, threads: 4))
            .perform(.movePages(MovePages(process: kernel.identity(10), from: [0], to: 1,
                                          bytes: UInt64(pages) * 4096, reason: testReason)))
        #expect(record.outcome.status == .exited)
        #expect(record.outcome.pagesMoved > 0 && record.outcome.pagesMoved < pages)
    }
}
