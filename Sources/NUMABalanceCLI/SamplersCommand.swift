import ArgumentParser
import NUMAModel
import NUMASampling
import NUMASystem
import NUMATopology

/// `numabalance samplers`: start the per-node sampler threads, show how the
/// kernel sees them (name, tid, affinity read back), stop them.
struct SamplersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "samplers",
        abstract: "Start the per-node sampler threads, show their pinning as the kernel reports it, stop them.",
        discussion: """
            numabalance samples from one thread per node that has CPUs, pinned to \
            that node's CPUs, so that its buffers are node-local and the work \
            spreads. CPU-less nodes get none. This shows whether pinning works here \
            (a container's cpuset may forbid it).
            """,
        // A developer's check of the sampler threads, not an operator's command.
        shouldDisplay: false
    )

    @Flag(help: "Print JSON: [{\"node\",\"tid\",\"name\",\"cpus\",\"affinity\"}].")
    var json = false

    struct Row: Encodable {
        var node: Int
        var tid: Int32
        var name: String
        var cpus: [Int]
        var affinity: [Int]?
    }

    func run() async throws {
        let topology = try TopologyReader().read()
        let pool: SamplerPool
        do { pool = try SamplerPool(sampler: ProcessSampler(topology: topology)) } catch {
            throw CommandError(error.description)
        }
        let rows = pool.samplers.map { thread in
            Row(node: thread.node.rawValue, tid: thread.tid, name: thread.threadNameFromKernel ?? thread.name,
                cpus: thread.cpus.ids, affinity: (try? CPUMask.affinity(of: thread.tid).get())?.ids)
        }
        pool.stop()
        if json { return try Output.printJSON(rows) }
        var table = [["node", "tid", "name", "node cpus", "affinity (read back)"]]
        table += rows.map {
            ["\($0.node)", "\($0.tid)", $0.name, CPUSet($0.cpus).listFormat,
             $0.affinity.map { CPUSet($0).listFormat } ?? "unreadable"]
        }
        print(Output.table(table))
    }
}
