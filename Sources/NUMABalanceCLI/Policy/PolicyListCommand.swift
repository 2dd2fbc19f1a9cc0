import ArgumentParser
import Foundation
import NUMAModel
import NUMAPolicy

/// `numabalance policy list`: the installed policies in the order they apply.
struct PolicyListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the installed policy files in the order they apply, each policy's mode, nodes and match.",
        discussion: """
            The files of the policy folder load in lexical order of their names, \
            the policies of a file in file order; the first that matches a process \
            wins, then the built-in default (auto). The catch-all (match: {all: \
            true}) is marked. A file that no longer validates (edited by hand, or \
            written for another version) is flagged with its errors; the daemon \
            would refuse a reload while it is there.

            Examples:
              numabalance policy list
              numabalance policy list --policy-dir /tmp/policies --json

            JSON: {"directory", "valid", "files": [{"file", "valid", "errors", \
            "policies": [{"name", "mode", "nodes", "cpuNodes", "match", \
            "catchAll"}]}], "setErrors"}.

            Exit status: 0 every file valid (or none installed); 1 a file or the \
            set does not validate; 2 usage error.
            """
    )

    @Option(help: ArgumentHelp("The daemon's policy folder (default: from the config).", valueName: "dir"))
    var policyDir: String?

    @Option(help: ArgumentHelp("The daemon's config file (default: \(DaemonConfig.defaultPath)).", valueName: "file"))
    var config: String?

    @Flag(help: "Print JSON.")
    var json = false

    struct Listing: Encodable {
        var directory: String
        var valid: Bool
        var files: [File]
        var setErrors: [String]
    }

    struct File: Encodable {
        var file: String
        var valid: Bool
        var errors: [String]
        var policies: [Entry]
    }

    struct Entry: Encodable {
        var name: String
        var mode: String
        var nodes: [Int]?
        var allNodes: Bool?
        var cpuNodes: [Int]?
        var match: String
        var catchAll: Bool
    }

    func run() throws {
        let directory = try PolicyFolders.resolve(config: config, policyDir: policyDir, runtimeDir: nil,
                                                 needsRuntime: false).policyDirectory
        let names: [String]
        do { names = try PolicySet.policyFileNames(in: directory) } catch {
            throw CommandError("cannot read the policy folder \(directory): \(error.localizedDescription)")
        }
        var files: [File] = []
        var all: [Policy] = []
        for name in names {
            let path = PolicyFolder.path(directory, name)
            do {
                let policies = try PolicyLoader.load(path: path)
                all += policies
                files.append(File(file: name, valid: true, errors: [], policies: policies.map(Self.entry)))
            } catch {
                files.append(File(file: name, valid: false, errors: error.errors.map(\.description), policies: []))
            }
        }
        let setErrors = PolicySet.orderProblems(all).map(\.description)
        let valid = files.allSatisfy(\.valid) && setErrors.isEmpty
        let listing = Listing(directory: directory, valid: valid, files: files, setErrors: setErrors)
        if json { try Output.printJSON(listing) } else { print(Self.text(listing)) }
        if !valid { throw ExitCode(1) }
    }

    static func entry(_ policy: Policy) -> Entry {
        var entry = Entry(name: policy.name, mode: policy.placement.mode.rawValue, match: PolicyText.match(policy.match),
                          catchAll: policy.match.all)
        switch policy.placement.nodes {
        case .list(let list)?: entry.nodes = list.map(\.rawValue)
        case .all?: entry.allNodes = true
        case nil: break
        }
        entry.cpuNodes = policy.placement.cpuNodes?.map(\.rawValue)
        return entry
    }

    static func text(_ listing: Listing) -> String {
        guard !listing.files.isEmpty else {
            return "no policy files in \(listing.directory): every process gets the built-in default (auto)"
        }
        let count = listing.files.reduce(0) { $0 + $1.policies.count }
        var lines = ["\(listing.directory): \(PolicyText.count(listing.files.count, "file")), "
                     + "\(PolicyText.count(count, "policy", plural: "policies")), first match wins, in this order:"]
        for file in listing.files {
            guard file.valid else {
                lines.append("\(file.file): DOES NOT VALIDATE (the daemon refuses to reload while it is there):")
                lines += file.errors.map { "  " + $0 }
                continue
            }
            lines.append(file.file)
            var rows: [[String]] = []
            for policy in file.policies {
                var mode = policy.mode
                if let nodes = policy.nodes {
                    mode += " → " + (nodes.count == 1 ? "node " : "nodes ") + NodeList.format(nodes.map { NodeID($0) })
                } else if policy.allNodes == true {
                    mode += " → all nodes with memory"
                }
                if let cpu = policy.cpuNodes { mode += " (threads on " + NodeList.format(cpu.map { NodeID($0) }) + ")" }
                rows.append(["  " + policy.name, mode, "match: " + policy.match
                             + (policy.catchAll ? "  ← the catch-all: nothing after it is reached" : "")])
            }
            lines.append(Output.table(rows))
        }
        if !listing.files.contains(where: { $0.policies.contains(where: \.catchAll) }) {
            lines.append("then the built-in default: auto, for every process no policy above takes")
        }
        if !listing.setErrors.isEmpty {
            lines.append("the set does not validate:")
            lines += listing.setErrors.map { "  " + $0 }
        }
        return lines.joined(separator: "\n")
    }
}
