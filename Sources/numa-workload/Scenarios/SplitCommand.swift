// split: memory spread over nodes in known shares, for accuracy tests.
import ArgumentParser

struct SplitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split",
        abstract: "Memory in 64 KiB blocks, each first touched on a node drawn by --share.",
        discussion: """
            The layout is drawn with a seeded generator (--seed): the same seed \
            gives the same blocks on the same nodes. Huge pages are turned off \
            for the buffer so a block stays a block. The ready line gives the \
            blocks placed per node, e.g. blocks=0:1434,1:614.
            """
    )

    @Option(help: "Memory in MiB.") var mib = 128
    @Option(help: ArgumentHelp("Node shares, e.g. 0:0.7,1:0.3.", valueName: "node:weight,..."))
    var share: String
    @Option(help: "Threads.") var threads = 1
    @OptionGroup var options: RunOptions

    func validate() throws {
        guard mib > 0 else { throw ValidationError("--mib must be positive") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        do { _ = try SplitPlan.parseShares(share) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        try runScenario {
            let plan = SplitPlan(shares: try SplitPlan.parseShares(share), seed: options.seed)
            return try Workload.run(WorkerPlan(memory: .split(mib: mib, plan: plan), threads: threads, sliced: true),
                                    length: options.length)
        }
    }
}
