// The memory-bound loop: real pthreads, each reading and writing one word per
// cache line of its range, over and over, until told to stop.
import CLinux
import Glibc
import Synchronization

/// What the sweep threads and the main thread share.
final class SweepState: Sendable {
    let stop = Atomic<Bool>(false)
    /// Completed sweeps over a thread's whole range, summed over threads.
    let sweeps = Atomic<Int>(0)
    /// Threads that are placed (pinned, if asked) and sweeping.
    let running = Atomic<Int>(0)
    let pinFailures = Atomic<Int>(0)

    /// Waits until `count` threads are placed and sweeping; returns how many
    /// of them could not pin themselves.
    func awaitRunning(_ count: Int) -> Int {
        while running.load(ordering: .acquiring) < count { usleep(1000) }
        return pinFailures.load(ordering: .relaxed)
    }

    /// Says so on stderr when threads could not be pinned (the run goes on).
    func reportPinFailures(_ failures: Int) {
        if failures > 0 { Output.error("\(failures) thread(s) could not be pinned") }
    }
}

/// How one thread walks the memory.
struct SweepRange: Sendable {
    var lower: Int
    var upper: Int
    /// Where it starts, so threads sharing one range do not walk in lockstep.
    var start: Int

    /// Thread `index` of `count`: its own slice when `sliced`, else the whole
    /// region starting at its slice's beginning.
    static func forThread(_ index: Int, of count: Int, size: Int, sliced: Bool) -> SweepRange {
        let line = 64
        let sliceStart = (size / count * index) / line * line
        let sliceEnd = index == count - 1 ? size : (size / count * (index + 1)) / line * line
        return sliced ? SweepRange(lower: sliceStart, upper: sliceEnd, start: sliceStart)
            : SweepRange(lower: 0, upper: size, start: sliceStart)
    }
}

enum SweepThreads {
    static let stride = 64          // one cache line
    static let chunk = 1 << 20      // bytes between two looks at the stop flag

    /// Starts `count` threads over `region`; each pins itself to `cpus` before
    /// its first sweep (sched_setaffinity from inside the new thread) when given.
    static func start(count: Int, region: MemoryRegion, sliced: Bool, cpus: [Int]?,
                      state: SweepState) throws -> [pthread_t] {
        var threads: [pthread_t] = []
        for index in 0..<count {
            let range = SweepRange.forThread(index, of: count, size: region.size, sliced: sliced)
            let name = "sweep-\(index)"
            let body = ThreadBody {
                // Named before it is pinned: the name's allocation creates this
                // thread's malloc arena, whose first page (a huge page, maybe)
                // should land with the rest of the process's memory.
                _ = clinux_set_thread_name(name)
                if let cpus {
                    do { try NodeCPUs.pinCurrentThread(to: cpus) } catch { state.pinFailures.add(1, ordering: .relaxed) }
                }
                state.running.add(1, ordering: .releasing)
                sweep(region, range, state)
            }
            threads.append(try spawn(body))
        }
        return threads
    }

    /// Starts one thread per entry of `each`: it pins itself to the entry's
    /// CPUs (from inside the new thread) and sweeps the entry's pieces of
    /// `region` (byte ranges, each walked whole, one after the other), so a
    /// thread can own a buffer of its own or the touched parts of a sparse heap.
    static func start(_ each: [(pieces: [Range<Int>], cpus: [Int]?)], region: MemoryRegion,
                      state: SweepState) throws -> [pthread_t] {
        var threads: [pthread_t] = []
        for (index, entry) in each.enumerated() {
            let name = "sweep-\(index)"
            let body = ThreadBody {
                _ = clinux_set_thread_name(name)
                if let cpus = entry.cpus {
                    do { try NodeCPUs.pinCurrentThread(to: cpus) } catch { state.pinFailures.add(1, ordering: .relaxed) }
                }
                state.running.add(1, ordering: .releasing)
                while !state.stop.load(ordering: .relaxed) {
                    for piece in entry.pieces where !state.stop.load(ordering: .relaxed) {
                        sweep(region, SweepRange(lower: piece.lowerBound, upper: piece.upperBound, start: piece.lowerBound),
                              state, once: true)
                    }
                    state.sweeps.add(1, ordering: .relaxed)
                }
            }
            threads.append(try spawn(body))
        }
        return threads
    }

    static func join(_ threads: [pthread_t]) {
        for thread in threads { pthread_join(thread, nil) }
    }

    /// Reads and writes one 64-bit word per cache line, wrapping around the
    /// range; counts a sweep each time a whole range's worth is walked.
    /// With `once`, returns after one walk of the range (the caller counts sweeps).
    static func sweep(_ region: MemoryRegion, _ range: SweepRange, _ state: SweepState, once: Bool = false) {
        let length = range.upper - range.lower
        guard length >= stride else { return }
        var cursor = range.start
        var walked = 0
        while !state.stop.load(ordering: .relaxed) {
            let end = min(cursor + chunk, range.upper)
            var offset = cursor
            while offset < end {
                let value = region.base.load(fromByteOffset: offset, as: UInt64.self)
                region.base.storeBytes(of: value &+ 1, toByteOffset: offset, as: UInt64.self)
                offset += stride
            }
            walked += end - cursor
            cursor = end == range.upper ? range.lower : end
            if walked >= length {
                if once { return }
                walked -= length
                state.sweeps.add(1, ordering: .relaxed)
            }
        }
    }

    static func spawn(_ body: ThreadBody) throws -> pthread_t {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(body).toOpaque()
        let rc = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue().run()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(context).release()
            throw WorkloadError("pthread_create", errno: rc)
        }
        return thread
    }
}

/// A thread's work, handed to pthread_create through an opaque pointer.
final class ThreadBody: Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

extension SweepThreads {
    /// `count` threads on `cpus`, thread i sweeping every count-th of
    /// `pieces`; once they run, the calling thread goes to `cpus` too (the
    /// user's pin on the whole process). Returns the threads and their state.
    static func startPinned(pieces: [Range<Int>], count: Int, cpus: [Int], region: MemoryRegion) throws
        -> (threads: [pthread_t], state: SweepState)
    {
        let work = (0..<count).map { index in
            (pieces: Swift.stride(from: index, to: pieces.count, by: count).map { pieces[$0] }, cpus: Optional(cpus))
        }
        let state = SweepState()
        let started = try start(work, region: region, state: state)
        let failures = state.awaitRunning(count)
        try NodeCPUs.pinCurrentThread(to: cpus)
        state.reportPinFailures(failures)
        return (started, state)
    }
}
