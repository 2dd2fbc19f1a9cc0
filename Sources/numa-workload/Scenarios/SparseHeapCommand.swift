// sparse-heap: a JVM- or Go-style heap that reserves far more than it
// touches: one MAP_NORESERVE mapping, a small part of it first touched on
// one node, the threads then pinned by the user to another.
import ArgumentParser
import Glibc

struct SparseHeapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sparse-heap",
        abstract: "One MAP_NORESERVE mapping of --reserve-mib, --touch-mib of it first touched on --mem-node, threads pinned to --cpu-node.",
        discussion: """
            The touched part is --touch-mib / --piece-mib pieces spread evenly over \
            the reservation (a heap's regions), each first touched on --mem-node; the \
            rest is never touched, so the mapping's virtual size is --reserve-mib and \
            its resident size --touch-mib. Transparent huge pages are off for the \
            mapping, so a piece is exactly its pages. As misplaced: the process first \
            gathers its own pages on --mem-node, then pins every thread to \
            --cpu-node's CPUs (the user's pin: memory must follow it). The threads \
            sweep only the touched pieces, so nothing new is faulted in on \
            --cpu-node. The ready line gives heap=START (hex, as numa_maps prints it), \
            reserve-mib and touch-mib.
            """
    )

    @Option(help: "Virtual size of the heap mapping in MiB.") var reserveMib = 4096
    @Option(help: "MiB of it touched.") var touchMib = 128
    @Option(help: "Size of each touched piece in MiB.") var pieceMib = 1
    @Option(help: "The node the touched pieces are first touched on.") var memNode = 0
    @Option(help: "The node whose CPUs the threads run on.") var cpuNode = 1
    @Option(help: "Threads (default: the CPUs of --cpu-node).") var threads: Int?
    @OptionGroup var options: RunOptions

    func validate() throws {
        guard pieceMib > 0, touchMib >= pieceMib, touchMib % pieceMib == 0 else {
            throw ValidationError("--touch-mib must be a positive multiple of --piece-mib")
        }
        guard reserveMib >= touchMib else { throw ValidationError("--reserve-mib must be at least --touch-mib") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// The touched pieces: byte ranges spread evenly over the reservation.
    static func pieces(reserveMib: Int, touchMib: Int, pieceMib: Int) -> [Range<Int>] {
        let count = touchMib / pieceMib
        let spacing = reserveMib / count
        return (0..<count).map { index in
            let start = (index * spacing) << 20
            return start..<start + (pieceMib << 20)
        }
    }

    func run() throws {
        try runScenario {
            let cpus = try MisplacedStart.prepare(memNode: memNode, cpuNode: cpuNode)
            let signals = StopSignals.block()

            let heap = try MemoryRegion.map(bytes: reserveMib << 20, flags: MAP_NORESERVE)
            heap.disableHugePages()
            let pieces = Self.pieces(reserveMib: reserveMib, touchMib: touchMib, pieceMib: pieceMib)
            try MemoryPolicy.bound(to: memNode) { pieces.forEach(heap.touch) }

            let count = threads ?? cpus.count
            let (started, state) = try SweepThreads.startPinned(pieces: pieces, count: count, cpus: cpus, region: heap)
            let pid = getpid()
            Output.line("ready pid=\(pid) threads=\(count) heap=\(heap.startHex) reserve-mib=\(reserveMib) "
                + "touch-mib=\(touchMib) pieces=\(pieces.count) mem-node=\(memNode) cpu-node=\(cpuNode)")
            Progress.runToEnd(pid: pid, state: state, signals: signals, length: options.length, threads: started)
            return 0
        }
    }
}
