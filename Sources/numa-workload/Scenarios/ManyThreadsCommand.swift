// many-threads: a server's thread pool: many threads, each busy a few
// percent of the time (a request, then a wait), all memory on one node and
// every thread pinned by the user to another.
import ArgumentParser
import CLinux
import Glibc

struct ManyThreadsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "many-threads",
        abstract: "--threads threads, each working --work-ms of every --period-ms on its own slice; memory on --mem-node, threads pinned to --cpu-node.",
        discussion: """
            As misplaced, the process gathers its own pages on --mem-node and \
            first touches the buffer there, then every thread pins itself to \
            --cpu-node's CPUs. Each thread then loops: sweep its own slice (one \
            word per cache line, going on where it stopped) for --work-ms of wall \
            time, sleep for the rest of --period-ms. So each thread uses about \
            work/period of a CPU (2 % by default: 64 threads ≈ 1.3 CPUs), none of \
            them much on its own.
            """
    )

    @Option(help: "Threads.") var threads = 64
    @Option(help: "Memory in MiB (sliced among the threads).") var mib = 64
    @Option(help: "The node the memory is first touched on.") var memNode = 0
    @Option(help: "The node whose CPUs the threads run on.") var cpuNode = 1
    @Option(help: "Milliseconds of work per period.") var workMs = 1.0
    @Option(help: "Period in milliseconds.") var periodMs = 50.0
    @OptionGroup var options: RunOptions

    func validate() throws {
        guard threads >= 1, mib > 0 else { throw ValidationError("--threads and --mib must be positive") }
        guard workMs > 0, periodMs > workMs else { throw ValidationError("--work-ms must be positive and below --period-ms") }
    }

    func run() throws {
        try runScenario {
            let cpus = try MisplacedStart.prepare(memNode: memNode, cpuNode: cpuNode)
            let signals = StopSignals.block()
            let region = try MemoryRegion.map(bytes: mib << 20)
            try MemoryPolicy.bound(to: memNode) { region.touch(0..<region.size) }

            let state = SweepState()
            let duty = DutyCycle(work: workMs / 1000, period: periodMs / 1000)
            var started: [pthread_t] = []
            for index in 0..<threads {
                let range = SweepRange.forThread(index, of: threads, size: region.size, sliced: true)
                let name = "pool-\(index)"
                started.append(try SweepThreads.spawn(ThreadBody {
                    _ = clinux_set_thread_name(name)
                    do { try NodeCPUs.pinCurrentThread(to: cpus) } catch { state.pinFailures.add(1, ordering: .relaxed) }
                    state.running.add(1, ordering: .releasing)
                    duty.loop(region, range, state)
                }))
            }
            let failures = state.awaitRunning(threads)
            try NodeCPUs.pinCurrentThread(to: cpus)
            state.reportPinFailures(failures)
            let pid = getpid()
            Output.line("ready pid=\(pid) threads=\(threads) mib=\(mib) mem-node=\(memNode) cpu-node=\(cpuNode) "
                + "duty=\(workMs)/\(periodMs)ms")
            Progress.runToEnd(pid: pid, state: state, signals: signals, length: options.length, threads: started)
            return 0
        }
    }
}

/// Work for `work` seconds of every `period`, on the wall clock.
struct DutyCycle: Sendable {
    var work: Double
    var period: Double

    /// Sweeps `range` (wrapping) in bursts, sleeping between them; a sweep is
    /// counted per burst.
    func loop(_ region: MemoryRegion, _ range: SweepRange, _ state: SweepState) {
        var cursor = range.lower
        guard range.upper - range.lower >= SweepThreads.stride else { return }
        while !state.stop.load(ordering: .relaxed) {
            let begin = monotonicSeconds()
            while monotonicSeconds() - begin < work {
                // 4 KiB between two looks at the clock.
                let end = min(cursor + 4096, range.upper)
                var offset = cursor
                while offset < end {
                    let value = region.base.load(fromByteOffset: offset, as: UInt64.self)
                    region.base.storeBytes(of: value &+ 1, toByteOffset: offset, as: UInt64.self)
                    offset += SweepThreads.stride
                }
                cursor = end == range.upper ? range.lower : end
            }
            state.sweeps.add(1, ordering: .relaxed)
            let rest = period - (monotonicSeconds() - begin)
            if rest > 0 { usleep(UInt32(rest * 1e6)) }
        }
    }
}
