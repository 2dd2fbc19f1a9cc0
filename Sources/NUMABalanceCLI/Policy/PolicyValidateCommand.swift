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
            """
    )

    @Argument(help: ArgumentHelp("Policy files, or folders of them.", valueName: "file"))
    var paths: [String] = []

    @Flag(help: "Also check node numbers against this machine's NUMA topology (off by default).")
    var topologyCheck = false

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
        var allValid = true
        for path in paths {
            allValid = Self.check(path, topology: topology) && allValid
        }
        if !allValid { throw ExitCode(1) }
    }

    /// Prints the verdict for one file or folder; true when valid.
    static func check(_ path: String, topology: Topology?) -> Bool {
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
        do {
            if exists, isFolder.boolValue {
                let set = try PolicySet.load(directory: path, generation: 1, topology: topology)
                let files = set.files.count
                print("\(path): ok (\(count(set.policies.count)) in \(files) file\(files == 1 ? "" : "s"))")
            } else {
                let policies = try PolicyLoader.load(path: path, topology: topology)
                print("\(path): ok (\(count(policies.count)))")
            }
            return true
        } catch {
            print(error.description)
            return false
        }
    }

    static func count(_ policies: Int) -> String { policies == 1 ? "1 policy" : "\(policies) policies" }
}
