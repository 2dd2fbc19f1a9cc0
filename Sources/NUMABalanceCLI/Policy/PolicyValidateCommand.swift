import ArgumentParser
import Foundation
import NUMAModel
import NUMAPolicy
import NUMATopology

/// `numabalance policy validate FILE...`: load each file as the daemon
/// would, and print "ok" or every error with file:line:column and key path.
struct PolicyValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check policy files: print FILE: ok (N policies), or each error as file:line:column: path: message.",
        discussion: """
            Each file is read to the end and every problem reported: unknown keys \
            (with the nearest allowed one), wrong types, bad values, modes without \
            the nodes they need, regular expressions that do not compile, empty \
            matches, duplicate names. A folder is validated as the daemon loads \
            it: its *.yaml and *.yml files in lexical order as one set, which also \
            catches a name used in two files and a catch-all that hides the \
            policies after it. Exit status: 0 when everything is valid, 1 otherwise.

            Node numbers are checked against this machine only with \
            --topology-check. It is off by default because policies for a fleet \
            are often validated on a build host whose nodes differ from the \
            servers': run it on the target machine (or one like it) to learn that \
            a node does not exist there, that a pinned node has no CPUs (a CXL or \
            PMEM memory node can take memory, never threads), or that an \
            interleave node has no memory.

            --json prints one line: {"ok": …, "results": [{"path", "ok", \
            "policies", "files", "errors": [{"file", "line", "column", "path", \
            "message"}]}]}, with the same exit status.
            """
    )

    @Argument(help: ArgumentHelp("Policy files, or folders of them.", valueName: "file"))
    var paths: [String] = []

    @Flag(help: "Also check node numbers against this machine's NUMA topology (off by default).")
    var topologyCheck = false

    @Flag(help: "Print the verdicts and errors as one line of JSON.")
    var json = false

    @Option(help: ArgumentHelp("Root of sysfs to read (for testing).", visibility: .hidden))
    var sysRoot = "/sys"

    @Option(help: ArgumentHelp("Root of procfs to read (for testing).", visibility: .hidden))
    var procRoot = "/proc"

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("name at least one policy file or folder") }
    }

    func run() throws {
        var topology: Topology?
        if topologyCheck {
            do { topology = try TopologyReader(sysRoot: sysRoot, procRoot: procRoot).read() } catch {
                throw CommandError("cannot read the NUMA topology for --topology-check: \(error)")
            }
        }
        let results = paths.map { Self.check($0, topology: topology) }
        if json {
            struct Report: Encodable { var ok: Bool; var results: [FileCheckJSON] }
            try Output.printJSON(Report(ok: results.allSatisfy(\.ok), results: results))
        } else {
            for result in results { print(Self.text(result)) }
        }
        if !results.allSatisfy(\.ok) { throw ExitCode(1) }
    }

    /// The verdict for one file or folder.
    static func check(_ path: String, topology: Topology?) -> FileCheckJSON {
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
        do {
            if exists, isFolder.boolValue {
                let set = try PolicySet.load(directory: path, generation: 1, topology: topology)
                return FileCheckJSON(path: path, policies: set.policies.count, files: set.files.count)
            }
            return FileCheckJSON(path: path, policies: try PolicyLoader.load(path: path, topology: topology).count)
        } catch {
            return FileCheckJSON(path: path, failed: error)
        }
    }

    /// "FILE: ok (N policies)", "FOLDER: ok (N policies in M files)", or one error a line.
    static func text(_ result: FileCheckJSON) -> String {
        guard result.ok else {
            return result.errors.map(\.text).joined(separator: "\n")
        }
        let policies = count(result.policies ?? 0)
        guard let files = result.files else { return "\(result.path): ok (\(policies))" }
        return "\(result.path): ok (\(policies) in \(files) file\(files == 1 ? "" : "s"))"
    }

    static func count(_ policies: Int) -> String { policies == 1 ? "1 policy" : "\(policies) policies" }
}
