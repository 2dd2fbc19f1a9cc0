import ArgumentParser
import Foundation
import NUMABalancing
import NUMAModel
import NUMAPlacement
import NUMAPolicy
import NUMASampling
import NUMATopology

/// `numabalance policy plan FILE...`: which running processes the policies
/// take and what the daemon would do to each. Changes nothing.
struct PolicyPlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show which running processes policy files take and what would be done to each; changes nothing.",
        discussion: """
            The files are loaded as `policy validate` loads them (every error as \
            file:line:column: path: message, exit status 1). Every running process \
            (not kernel threads, not this command) is then matched as the daemon \
            matches: the policies in the order of the files given, then the \
            built-in default; with --policy-dir, in the order the daemon would \
            load that folder with these files installed into it (added, or \
            replacing a file of the same name).

            For each policy, its processes and what would be done:
              pin, preferred, interleave: the process is sampled once (page \
            placement by move_pages queries, CPU time over half a second) and the \
            actions are listed with their reasons and the bytes they would move; \
            "nothing to do" when it already is as the policy wants;
              auto: balanced by the daemon's engine at its scan period;
              ignore: left alone.
            pid 1 is listed but never acted on. Processes that only the built-in \
            default takes are left out unless --all is given.

            Nothing is changed: no affinity, no memory policy, no page moved, no \
            journal written. Another user's process needs CAP_SYS_PTRACE to be \
            sampled; without it the process is listed as not sampled.

            Example (each action is followed by a why: line with its reason):
              $ numabalance policy plan latency-pin.yaml
              policy latency-pin (pin → node 0) matches 1 process
                pid 4242 redis  locality 0.12  → set affinity to node 0 CPUs 0-1
                    why: [policy-pin] policy latency-pin pins it to node 0: …
              $ numabalance policy plan --policy-dir /etc/numabalance/policies.d new.yaml

            JSON (--json): {"policies": [{"name", "file", "mode", "nodes" (or \
            "allNodes"), "cpuNodes", \
            "processes": [{"pid", "comm", "treatment", "locality", "bytes", \
            "actions", "note"}]}]}; "treatment" is plan, auto, ignore, \
            never-acted-on or not-sampled; "actions" as the journal writes them.

            Exit status: 0 the plan was printed (whatever it holds); 1 a file \
            does not validate or the machine cannot be read; 2 usage error.
            """
    )

    @Argument(help: ArgumentHelp("Policy files.", valueName: "file"))
    var files: [String] = []

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: ArgumentHelp("Plan as if the files were installed into this policy folder.", valueName: "dir"))
    var policyDir: String?

    @Flag(help: "Also list the processes only the built-in default takes.")
    var all = false

    @Option(help: ArgumentHelp("Seconds of CPU time measured per process (for locality and minCPU).",
                               valueName: "seconds"))
    var interval: Double = 0.5

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one policy file") }
        guard interval > 0, interval <= 60 else { throw ValidationError("--interval must be within 0…60 seconds") }
    }

    func run() async throws {
        let set = try loadSet()
        let topology: Topology
        do { topology = try TopologyReader().read() } catch {
            throw CommandError("cannot read the NUMA topology: \(error)")
        }
        let census = ProcessCensus(interval: .milliseconds(Int64(interval * 1000))).take()
        // Each process under its policy (nil: the built-in default).
        var taken: [Int?: [RunningProcess]] = [:]
        for process in census.processes {
            taken[set.matcher.firstMatch(for: process.facts), default: []].append(process)
        }
        let rows = set.policies.indices.map { Optional($0) } + (all ? [nil] : [])
        let pool = try? SamplerPool(sampler: ProcessSampler(topology: topology))
        defer { pool?.stop() }
        var reports: [PolicyReport] = []
        for row in rows {
            let policy = row.map { set.policies[$0] } ?? BuiltinPolicy.default
            let processes = (taken[row] ?? []).sorted { $0.identity.pid < $1.identity.pid }
            let entries = await PolicyPlanning.plan(processes, policy: policy, topology: topology, pool: pool,
                                                    startedAt: census.startedAt, config: DaemonConfig().sampling)
            reports.append(PolicyReport(policy: policy, entries: entries))
        }
        if json {
            try Output.printJSON(["policies": reports])
        } else {
            for report in reports { print(report.text) }
            print("(a plan only: nothing was changed)")
        }
    }

    /// The given files (after the folder's, with --policy-dir) as one set.
    private func loadSet() throws -> PolicySet {
        var drafts: [PolicyDraft] = []
        var errors: [ConfigError] = []
        for file in files {
            // A draft that does not load still takes its name's place in the folder.
            var policies: [Policy] = []
            do { policies = try PolicyLoader.load(path: file) } catch { errors += error.errors }
            drafts.append(PolicyDraft(name: PolicyFolder.installedName(for: file), file: file, policies: policies))
        }
        do {
            let set = try PolicySet.load(directory: policyDir, drafts: drafts)
            if errors.isEmpty { return set }
        } catch {
            errors += error.errors
        }
        printError(ConfigErrorList(errors).description)
        throw ExitCode(1)
    }
}

/// One policy's processes and their plans.
struct PolicyReport: Encodable {
    var name: String
    var file: String?
    var mode: String
    /// The nodes as written; nil with `nodes: all` (then `allNodes`) and for auto and ignore.
    var nodes: [Int]?
    var allNodes: Bool?
    var cpuNodes: [Int]?
    var processes: [ProcessPlan]
    private var modeText: String

    init(policy: Policy, entries: [ProcessPlan]) {
        name = policy.name
        file = policy.source?.file
        mode = policy.placement.mode.rawValue
        switch policy.placement.nodes {
        case .list(let list)?: nodes = list.map(\.rawValue)
        case .all?: allNodes = true
        case nil: break
        }
        cpuNodes = policy.placement.cpuNodes?.map(\.rawValue)
        processes = entries
        modeText = PolicyText.mode(policy.placement) + (policy.source == nil ? ", built-in" : "")
    }

    enum CodingKeys: String, CodingKey { case name, file, mode, nodes, allNodes, cpuNodes, processes }

    var text: String {
        let count = processes.isEmpty ? "no process" : PolicyText.count(processes.count, "process", plural: "processes")
        var lines = ["policy \(name) (\(modeText)) matches \(count)"]
        for process in processes { lines += process.lines }
        return lines.joined(separator: "\n")
    }
}


extension ProcessPlan {
    var lines: [String] {
        let head = "  pid \(pid) \(TerminalText.escaped(comm))"
        switch treatment {
        case .auto: return [head + "  → balanced by the daemon's engine at its scan period"]
        case .ignore: return [head + "  → left alone"]
        case .neverActedOn: return [head + "  → never acted on (pid 1 is never touched)"]
        case .notSampled: return [head + "  → not sampled: \(TerminalText.escaped(note ?? "unknown reason"))"]
        case .plan:
            let locality = "  locality " + (self.locality.map { String(format: "%.2f", $0) } ?? "-")
            guard let actions, !actions.isEmpty else {
                return [head + locality + "  → nothing to do: already as the policy wants"]
            }
            return [head + locality + "  → " + summaries.joined(separator: "; ")]
                + actions.map { "      why: \($0.reason.description)" }
        }
    }
}
