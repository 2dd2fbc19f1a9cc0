// many-mappings: a process with a hundred thousand mappings (an Elasticsearch
// or a JVM with many mapped files and thread stacks): one reservation cut
// into single pages of alternating protection, so that no two neighbours
// merge, a few of them first touched on one node, threads on another.
import ArgumentParser
import Foundation
import Glibc

struct ManyMappingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "many-mappings",
        abstract: "--count one-page mappings (rw- and r-- in turn), every --touch-every-th rw page touched on --mem-node, threads on --cpu-node.",
        discussion: """
            Linux refuses more than vm.max_map_count mappings (65,530 by default): \
            raise it first (sysctl vm.max_map_count=262144) for --count 100000. As \
            misplaced: the process gathers its own pages on --mem-node, then its \
            threads, pinned to --cpu-node (the user's pin: memory must follow), \
            sweep the touched pages. The ready line gives maps=COUNT (the mappings \
            of the reservation) and touched=PAGES.
            """
    )

    @Option(help: "Single-page mappings in the reservation.") var count = 100_000
    @Option(help: "Touch one rw page in this many.") var touchEvery = 8
    @Option(help: "The node the touched pages are first touched on.") var memNode = 0
    @Option(help: "The node whose CPUs the threads run on.") var cpuNode = 1
    @OptionGroup var options: RunOptions

    func validate() throws {
        guard count >= 2 else { throw ValidationError("--count must be at least 2") }
        guard touchEvery >= 1 else { throw ValidationError("--touch-every must be at least 1") }
    }

    func run() throws {
        try runScenario {
            let cpus = try MisplacedStart.prepare(memNode: memNode, cpuNode: cpuNode)
            let signals = StopSignals.block()
            let page = MemoryRegion.pageSize
            let region = try MemoryRegion.map(bytes: count * page, flags: MAP_NORESERVE)
            region.disableHugePages()
            // Odd pages read-only: rw- and r-- alternate, and none merges.
            for index in stride(from: 1, to: count, by: 2) {
                guard mprotect(region.base + index * page, page, PROT_READ) == 0 else {
                    throw WorkloadError("mprotect of page \(index) (vm.max_map_count is \(Self.maxMapCount()))", errno: errno)
                }
            }
            let touched = stride(from: 0, to: count, by: 2 * touchEvery).map { ($0 * page)..<($0 * page + page) }
            try MemoryPolicy.bound(to: memNode) { touched.forEach(region.touch) }
            let threads = cpus.count
            let (started, state) = try SweepThreads.startPinned(pieces: touched, count: threads, cpus: cpus, region: region)
            let pid = getpid()
            Output.line("ready pid=\(pid) threads=\(threads) maps=\(count) touched=\(touched.count) "
                + "start=\(region.startHex) mem-node=\(memNode) cpu-node=\(cpuNode)")
            Progress.runToEnd(pid: pid, state: state, signals: signals, length: options.length, threads: started)
            return 0
        }
    }

    static func maxMapCount() -> String {
        ProcFile.text("/proc/sys/vm/max_map_count")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
    }
}
