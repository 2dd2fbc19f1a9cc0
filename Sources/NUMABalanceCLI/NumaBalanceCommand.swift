import ArgumentParser
import Foundation
import NUMABench
import NUMAModel

/// The `numabalance` command: one subcommand per file in this library; the
/// executable only calls `main()`.
public struct NumaBalanceCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "numabalance",
        abstract: "A userspace, AutoNUMA-style NUMA balancer: sample, decide, act.",
        discussion: """
            numabalance estimates where each process's pages live (move_pages \
            queries on a sample of addresses) and where its threads run, decides \
            with the kernel's own NUMA balancing rules, and moves threads or \
            memory to make accesses local.
            """,
        version: NumaBalanceVersion.string,
        subcommands: [
            TopologyCommand.self,
            InspectCommand.self,
            SimulateCommand.self,
            // Hidden from --help: the sampler threads' check and the
            // developers' benchmarks (NUMABench).
            SamplersCommand.self,
            BenchSamplerCommand.self,
            BenchEngineCommand.self,
            RebalanceCommand.self,
            RestoreCommand.self,
            PrepareCommand.self,
            ExecCommand.self,
            PolicyCommand.self,
            ConfigCommand.self,
            RunCommand.self,
            StatusCommand.self,
        ]
    )

    public init() {}
}

extension NumaBalanceCommand {
    /// Parses the arguments and runs the chosen subcommand, async or not.
    /// (ArgumentParser's own async `main()` cannot be reached from another module's top-level code.)
    /// On the main thread: a synchronous subcommand (`run`) then starts with
    /// no other thread in the process, which dropping capabilities needs.
    @MainActor
    public static func runMain() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // Usage errors exit 2, as the subcommands' --help documents
            // (ArgumentParser's own code for them is 64).
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
