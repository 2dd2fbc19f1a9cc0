import ArgumentParser
import Foundation
import NUMADaemon
import NUMAModel
import NUMAPolicy
import NUMATopology

/// `numabalance policy apply FILE...`: check, install atomically, reload the daemon, confirm.
struct PolicyApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Install policy files into the daemon's policy folder and make the running daemon use them.",
        discussion: """
            Nothing is installed unless everything checks out:

            1. each FILE must be a regular file owned by root and writable by no \
            one else (a policy decides what a root daemon does to every process);
            2. each FILE must validate alone, node numbers checked against this \
            machine, whose daemon would refuse a node it does not have (errors as \
            file:line:column: path: message, as `policy validate --topology-check` \
            prints them);
            3. the folder as it would be (its current files, with these added or \
            replaced by name) must validate as one set: no policy name used twice, \
            no catch-all (match: {all: true}) before other policies.

            Each file is then installed under its base name (.yaml added if it \
            ends in neither .yaml nor .yml) atomically: written to a hidden \
            temporary file in the folder, mode 0644, fsync, rename(2), fsync of \
            the folder, so the daemon never reads half a file. Files load in \
            lexical order of their names: name them NN-name.yaml, the default \
            99-default.yaml.

            Then the running daemon is asked to reload (its control socket in the \
            runtime folder) and the answer checked: the new policy generation is \
            printed with its files. With no daemon running, the files stay \
            installed and are read when it starts. If the daemon refuses the set, \
            its errors are printed and it keeps its previous policies.

            Folders default to the config file's policyDirectory \
            (/etc/numabalance/policies.d) and runtimeDirectory (/run/numabalance).

            Examples:
              numabalance policy apply 10-latency-pin.yaml
              numabalance policy apply Policies/postgresql.yaml Policies/jvm.yaml
              numabalance policy apply --policy-dir /tmp/p --runtime-dir /tmp/run my.yaml

            Exit status: 0 installed (and active, or no daemon running); 1 a file \
            was refused or does not validate (nothing installed), an install \
            failed, or the daemon refused or could not be asked; 2 usage error.
            """
    )

    @Argument(help: ArgumentHelp("Policy files to install.", valueName: "file"))
    var files: [String] = []

    @OptionGroup var folders: DaemonFolderOptions

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one policy file") }
        let names = files.map(PolicyFolder.installedName)
        if let twice = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw ValidationError("two files would be installed as \(twice); rename one")
        }
    }

    func run() throws {
        let folders = try self.folders.resolve()
        let directory = folders.policyDirectory
        let texts = try readTrusted()
        let topology = readTopology()
        let drafts = try loadEach(texts, directory: directory, topology: topology)
        // The folder as it would be, as one set.
        do { _ = try PolicySet.load(directory: directory, drafts: drafts.map(\.draft), topology: topology) } catch {
            printError(error.description)
            printError("nothing installed: \(directory) with these files would not load as one set")
            throw ExitCode(1)
        }
        var installed: [String] = []
        for source in drafts {
            installed.append(try PolicyFolder.install(source.bytes, into: directory, name: source.draft.name))
        }
        let what = "installed " + installed.joined(separator: ", ")
        let outcome = DaemonReload.reload(runtimeDirectory: folders.runtimeDirectory, expectPresent: installed)
        if case .active = outcome { print(what) }
        let status = DaemonReload.report(outcome, installedWhat: what)
        if status != 0 { throw ExitCode(status) }
    }

    /// Who may write the files, checked on the descriptor each is read
    /// from, once: what is checked is what is validated and installed.
    private func readTrusted() throws -> [String: [UInt8]] {
        var texts: [String: [UInt8]] = [:]
        var refusals: [String] = []
        for file in files {
            switch TrustedFile.read(file, rule: .rootOnly, limit: YAMLNesting.maxBytes) {
            case .success(let bytes): texts[file] = bytes
            case .failure(let refusal): refusals.append("refusing \(file): \(refusal)")
            }
        }
        guard refusals.isEmpty else {
            refusals.forEach(printError)
            printError("nothing installed")
            throw ExitCode(1)
        }
        return texts
    }

    /// The folder is this machine's: its daemon loads it against this topology.
    private func readTopology() -> Topology? {
        do { return try TopologyReader().read() } catch {
            printError("warning: cannot read this machine's NUMA topology (\(error)): node numbers not checked")
            return nil
        }
    }

    /// Each file alone, listed by the path it will be installed as.
    private func loadEach(_ texts: [String: [UInt8]], directory: String,
                          topology: Topology?) throws -> [(draft: PolicyDraft, bytes: [UInt8])] {
        var drafts: [(draft: PolicyDraft, bytes: [UInt8])] = []
        var failed = false
        for file in files {
            guard let bytes = texts[file] else { continue }
            do {
                let policies = try PolicyLoader.load(text: String(decoding: bytes, as: UTF8.self), file: file,
                                                     topology: topology)
                let name = PolicyFolder.installedName(for: file)
                drafts.append((PolicyDraft(name: name, file: PolicyFolder.path(directory, name), policies: policies), bytes))
            } catch {
                printError(error.description)
                failed = true
            }
        }
        if failed {
            printError("nothing installed")
            throw ExitCode(1)
        }
        return drafts
    }
}
