import ArgumentParser
import Foundation
import NUMAActuation
import NUMAModel
import NUMAPolicy
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
            (execvp), which keeps both. The flags are numactl's, and so are \
            node lists: "0", "0,1", "0-3,5", "all", "!1" (every node but 1).

              numabalance exec -N 1 -m 1 -- ./server
              numabalance exec --interleave all -- postgres -D /srv/pg
              numabalance exec --policy latency-pin.yaml -- ./server

            --policy FILE takes the placement from a policy file instead of the \
            other flags (it excludes them); the file must hold one policy, or \
            --name picks one:
              pin: threads on the CPUs of cpuNodes (default: the nodes that have \
            CPUs), memory bound to the nodes (MPOL_BIND);
              preferred: memory prefers the node (MPOL_PREFERRED; several nodes: \
            MPOL_PREFERRED_MANY, or the first node on a kernel before 5.15), \
            threads on the nodes' CPUs;
              interleave: memory interleaved over the nodes (MPOL_INTERLEAVE; \
            nodes: all is every node with memory), threads on all their CPUs.
            auto and ignore are refused: they are the daemon's way with running \
            processes, not a placement to start with. Unlike the daemon, which \
            can only move a running process's existing pages, exec's policy \
            governs every allocation the command makes.

            Exit status: that of COMMAND; 1 when a policy cannot be set, the file \
            does not validate or COMMAND cannot be run; 2 on a usage error.
            """
    )

    @Option(name: [.customShort("N"), .customLong("cpunodebind"), .customLong("cpunodes")],
            help: ArgumentHelp("Run on the CPUs of these nodes.", valueName: "nodes"))
    var cpuNodes: String?

    @Option(name: [.customShort("m"), .long], help: ArgumentHelp("Allocate only on these nodes (MPOL_BIND).", valueName: "nodes"))
    var membind: String?

    @Option(name: [.customShort("i"), .long],
            help: ArgumentHelp("Interleave allocations over these nodes (MPOL_INTERLEAVE).", valueName: "nodes"))
    var interleave: String?

    @Option(name: [.customShort("p"), .long],
            help: ArgumentHelp("Prefer this node, others when it is full (MPOL_PREFERRED).", valueName: "node"))
    var preferred: String?

    @Option(help: ArgumentHelp("Take the placement from this policy file (excludes the other placement options).",
                               valueName: "file"))
    var policy: String?

    @Option(help: ArgumentHelp("With --policy: the policy of the file to use, when it holds several.",
                               valueName: "name"))
    var name: String?

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments, after --.")
    var command: [String] = []

    func run() throws {
        // Passthrough capture also takes --help when no command precedes it.
        if let first = command.first, first == "--help" || first == "-h" {
            print(Self.helpMessage())
            return
        }
        // Passthrough capture takes an option it does not know as the command
        // (numactl's -l, -C): say so rather than try to run "-l".
        if let first = command.first, first != "--", first.hasPrefix("-") {
            FileHandle.standardError.write(Data("Error: unknown option \(first) (numactl's -N, -m, -i and -p are read here; put the command after --)\n".utf8))
            throw ExitCode(2)
        }
        let arguments = command.first == "--" ? Array(command.dropFirst()) : command
        let given = [membind != nil, interleave != nil, preferred != nil].filter { $0 }.count
        var problem: String?
        if arguments.isEmpty {
            problem = "no command given (put it after --)"
        } else if policy != nil, given > 0 || cpuNodes != nil {
            problem = "--policy gives the whole placement: it excludes -N/--cpunodebind, -m/--membind, -i/--interleave, -p/--preferred"
        } else if given > 1 {
            problem = "give at most one of -m/--membind, -i/--interleave, -p/--preferred"
        } else if name != nil, policy == nil {
            problem = "--name picks a policy of the --policy file; give --policy too"
        }
        if let problem {
            FileHandle.standardError.write(Data("Error: \(problem)\n\(Self.helpMessage())\n".utf8))
            throw ExitCode(2)
        }
        let topology: Topology
        do { topology = try TopologyReader().read() } catch { throw CommandError("cannot read the NUMA topology: \(error)") }
        if let policy {
            try Self.applyPolicyFile(policy, name: name, topology: topology)
            let error = OwnPolicy.exec(arguments)
            throw CommandError("cannot run \(arguments[0]): \(error)")
        }
        if let policy = try memoryPolicy(topology: topology) {
            if case .failure(let error) = OwnPolicy.setMemoryPolicy(policy) { throw CommandError(error.description) }
        }
        if let cpuNodes {
            let nodes = try Self.nodes(cpuNodes, option: "--cpunodebind", topology: topology)
            let cpus = nodes.compactMap(topology.node).reduce(CPUSet()) { $0.union($1.cpus) }
            guard !cpus.isEmpty else { throw CommandError("--cpunodebind \(cpuNodes): these nodes have no CPUs") }
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
            let nodes = try Self.nodes(preferred, option: "--preferred", topology: topology, memory: true)
            guard nodes.count == 1 else {
                throw CommandError("--preferred \(preferred): one node (several: a policy file with mode preferred)")
            }
            return MemoryPolicySpec(mode: .preferred, nodes: nodes)
        }
        return nil
    }

    /// Parses a node list (numactl's syntax) and checks each node exists
    /// (and has memory when asked); "all" is every node (with memory).
    static func nodes(_ text: String, option: String, topology: Topology, memory: Bool = false) throws -> [NodeID] {
        let list: NodeList
        do { list = try NodeList.parse(text) } catch { throw CommandError("\(option): \(error)") }
        let machine = topology.nodes.filter { !memory || $0.hasMemory }.map(\.id)
        let ids = list.resolve(among: machine)
        guard !ids.isEmpty else { throw CommandError("\(option) \(text): leaves no node") }
        return try ids.map { id in
            guard let node = topology.node(id) else {
                throw CommandError("\(option): no node \(id) (nodes: \(topology.nodeIDs.map(\.rawValue)))")
            }
            if memory, !node.hasMemory { throw CommandError("\(option): node \(id) has no memory") }
            return node.id
        }
    }

    /// Sets this process's memory policy and affinity from a policy file's placement.
    static func applyPolicyFile(_ file: String, name: String?, topology: Topology) throws {
        let policies: [Policy]
        do { policies = try PolicyLoader.load(path: file) } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        }
        let chosen: Policy
        if let name {
            guard let found = policies.first(where: { $0.name == name }) else {
                FileHandle.standardError.write(Data(("Error: \(file) has no policy named \(name) (it has: "
                    + policies.map(\.name).joined(separator: ", ") + ")\n").utf8))
                throw ExitCode(2)
            }
            chosen = found
        } else {
            guard policies.count == 1 else {
                FileHandle.standardError.write(Data(("Error: \(file) holds \(policies.count) policies ("
                    + policies.map(\.name).joined(separator: ", ") + "); pick one with --name\n").utf8))
                throw ExitCode(2)
            }
            chosen = policies[0]
        }
        let problems = PolicyValidation.problems(chosen.placement, on: topology)
        if let first = problems.first {
            throw CommandError("policy \(chosen.name) (\(file)) does not fit this machine: \(first.message)")
        }
        guard let directive = chosen.directive(topology: topology) else {
            throw CommandError("policy \(chosen.name) has mode \(chosen.placement.mode.rawValue), which exec cannot "
                + "start a command with: \(chosen.ignores ? "ignore leaves a process alone" : "auto is the daemon balancing running processes"); "
                + "exec needs pin, preferred or interleave")
        }
        switch OwnPolicy.apply(directive, topology: topology) {
        case .success(let applied):
            if let refused = applied.preferManyRefused {
                FileHandle.standardError.write(Data(("numabalance exec: this kernel has no MPOL_PREFERRED_MANY "
                    + "(\(refused)); preferring node \(applied.memory.nodes[0]) only\n").utf8))
            }
        case .failure(.noMemoryNode):
            throw CommandError("policy \(chosen.name): none of its nodes has memory on this machine")
        case .failure(.noCPUNode):
            throw CommandError("policy \(chosen.name): none of its nodes has CPUs for the threads")
        case .failure(.kernel(let error)):
            throw CommandError(error.description)
        }
    }
}
