import ArgumentParser
import Foundation
import NUMAActuation
import NUMAModel
import NUMATopology

/// `numabalance exec`: set this process's own memory policy and affinity,
/// then exec the command, which inherits both (policy is per task: the
/// only way to choose another program's future allocations).
struct ExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a command with a memory policy and CPU affinity of your choice.",
        discussion: """
            Sets the memory policy (set_mempolicy) and the CPU affinity \
            (sched_setaffinity) of this process, then replaces it with COMMAND \
            (execvp), which keeps both. Node lists: "0", "0,1", "0-3".

              numabalance exec --cpunodes 1 --membind 1 -- ./server
              numabalance exec --interleave 0,1 -- postgres -D /srv/pg

            Exit status: that of COMMAND; 1 when a policy cannot be set or COMMAND \
            cannot be run; 2 on a usage error.
            """
    )

    @Option(name: .customLong("cpunodes"), help: ArgumentHelp("Run on the CPUs of these nodes.", valueName: "nodes"))
    var cpuNodes: String?

    @Option(help: ArgumentHelp("Allocate only on these nodes (MPOL_BIND).", valueName: "nodes"))
    var membind: String?

    @Option(help: ArgumentHelp("Interleave allocations over these nodes (MPOL_INTERLEAVE).", valueName: "nodes"))
    var interleave: String?

    @Option(help: ArgumentHelp("Prefer this node, others when it is full (MPOL_PREFERRED).", valueName: "node"))
    var preferred: Int?

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments, after --.")
    var command: [String] = []

    func run() throws {
        // Passthrough capture also takes --help when no command precedes it.
        if let first = command.first, first == "--help" || first == "-h" {
            print(Self.helpMessage())
            return
        }
        let arguments = command.first == "--" ? Array(command.dropFirst()) : command
        let given = [membind != nil, interleave != nil, preferred != nil].filter { $0 }.count
        if arguments.isEmpty || given > 1 {
            let problem = arguments.isEmpty ? "no command given (put it after --)"
                : "give at most one of --membind, --interleave, --preferred"
            FileHandle.standardError.write(Data("Error: \(problem)\n\(Self.helpMessage())\n".utf8))
            throw ExitCode(2)
        }
        let topology: Topology
        do { topology = try TopologyReader().read() } catch { throw CommandError("cannot read the NUMA topology: \(error)") }
        if let policy = try memoryPolicy(topology: topology) {
            if case .failure(let error) = OwnPolicy.setMemoryPolicy(policy) { throw CommandError(error.description) }
        }
        if let cpuNodes {
            let nodes = try Self.nodes(cpuNodes, option: "--cpunodes", topology: topology)
            let cpus = nodes.compactMap(topology.node).reduce(CPUSet()) { $0.union($1.cpus) }
            guard !cpus.isEmpty else { throw CommandError("--cpunodes \(cpuNodes): these nodes have no CPUs") }
            if case .failure(let error) = OwnPolicy.setAffinity(cpus) { throw CommandError(error.description) }
        }
        let error = OwnPolicy.exec(arguments)
        throw CommandError("cannot run \(arguments[0]): \(error)")
    }

    private func memoryPolicy(topology: Topology) throws -> MemoryPolicySpec? {
        if let membind { return MemoryPolicySpec(mode: .bind, nodes: try Self.nodes(membind, option: "--membind", topology: topology, memory: true)) }
        if let interleave {
            return MemoryPolicySpec(mode: .interleave, nodes: try Self.nodes(interleave, option: "--interleave", topology: topology, memory: true))
        }
        if let preferred {
            return MemoryPolicySpec(mode: .preferred, nodes: try Self.nodes("\(preferred)", option: "--preferred", topology: topology, memory: true))
        }
        return nil
    }

    /// Parses a node list and checks each node exists (and has memory when asked).
    static func nodes(_ text: String, option: String, topology: Topology, memory: Bool = false) throws -> [NodeID] {
        let ids: Set<Int>
        do { ids = try parseIDList(text) } catch { throw CommandError("\(option) \(text): \(error)") }
        guard !ids.isEmpty else { throw CommandError("\(option): no node given") }
        return try ids.sorted().map { id in
            guard let node = topology.node(NodeID(id)) else {
                throw CommandError("\(option): no node \(id) (nodes: \(topology.nodeIDs.map(\.rawValue)))")
            }
            if memory, !node.hasMemory { throw CommandError("\(option): node \(id) has no memory") }
            return node.id
        }
    }
}
