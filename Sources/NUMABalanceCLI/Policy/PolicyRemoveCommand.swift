import ArgumentParser
import Foundation
import NUMADaemon
import NUMAModel
import NUMAPolicy

/// `numabalance policy remove NAME`: delete an installed policy file, reload the daemon.
struct PolicyRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove an installed policy (by policy name or file name) and make the running daemon drop it.",
        discussion: """
            NAME is a file of the policy folder (50-jvm.yaml, or 50-jvm without \
            the suffix) or the name of a policy in it (jvm). The file is removed \
            and the folder synced; then the running daemon is asked to reload, as \
            `policy apply` does, and the new generation printed. A file that holds \
            several policies is not removed for one of them: edit the file and \
            apply it again. The processes the policy took fall to the next \
            matching policy, or to the built-in default.

            Examples:
              numabalance policy remove latency-pin
              numabalance policy remove 50-jvm.yaml --policy-dir /tmp/policies

            Exit status: 0 removed (and the daemon reloaded, or none running); 1 \
            no such policy or file, a file with several policies, or the daemon \
            could not reload; 2 usage error.
            """
    )

    @Argument(help: ArgumentHelp("A policy name or a policy file's name.", valueName: "name"))
    var name: String

    @OptionGroup var folders: DaemonFolderOptions

    func validate() throws {
        guard !name.isEmpty, !name.contains("/") else {
            throw ValidationError("NAME is a policy name or a file name in the policy folder, not a path")
        }
    }

    func run() throws {
        let folders = try self.folders.resolve()
        let directory = folders.policyDirectory
        let names: [String]
        do { names = try PolicySet.policyFileNames(in: directory) } catch {
            throw CommandError("cannot read the policy folder \(directory): \(error.localizedDescription)")
        }
        let file = try Self.find(name, among: names, in: directory)
        try PolicyFolder.remove(file, from: directory)
        let path = PolicyFolder.path(directory, file)
        let what = "removed \(path)"
        let outcome = DaemonReload.reload(runtimeDirectory: folders.runtimeDirectory, expectAbsent: [path])
        if case .active = outcome { print(what) }
        let status = DaemonReload.report(outcome, installedWhat: what)
        if status != 0 { throw ExitCode(status) }
    }

    /// The file to remove: by file name, then by the name of the only policy in a file.
    static func find(_ name: String, among files: [String], in directory: String) throws -> String {
        if let file = files.first(where: { $0 == name || $0 == name + ".yaml" || $0 == name + ".yml" }) {
            return file
        }
        var unreadable: [String] = []
        for file in files {
            let policies: [Policy]
            do { policies = try PolicyLoader.load(path: PolicyFolder.path(directory, file)) } catch {
                unreadable.append(file)
                continue
            }
            guard policies.contains(where: { $0.name == name }) else { continue }
            guard policies.count == 1 else {
                let others = policies.map(\.name).joined(separator: ", ")
                throw CommandError("policy \(name) is one of \(policies.count) policies in "
                    + "\(PolicyFolder.path(directory, file)) (\(others)): removing the file would remove them all; "
                    + "edit it and `numabalance policy apply` it again")
            }
            return file
        }
        var message = "no policy or policy file named \(name) in \(directory)"
        message += files.isEmpty ? " (the folder has no policy files)" : " (files: \(files.joined(separator: ", ")))"
        if !unreadable.isEmpty {
            message += "; \(unreadable.joined(separator: ", ")) do not validate, so their policy names are unknown: "
                + "remove by file name"
        }
        throw CommandError(message)
    }
}
