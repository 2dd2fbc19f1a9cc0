import ArgumentParser
import NUMAPolicy

/// `numabalance config`: the daemon's configuration file.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Work with the daemon's configuration file.",
        subcommands: [ConfigCheckCommand.self]
    )
}

/// `numabalance config check [FILE]`: the effective configuration, or every error.
struct ConfigCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a config file and print the effective configuration (defaults filled in) as YAML.",
        discussion: """
            Without FILE, reads \(DaemonConfig.defaultPath); if there is no file \
            there, the daemon runs on defaults, and those are printed. Every key is \
            optional and printed with a comment, so the output is a complete, \
            documented config file. Unknown keys and bad values are errors, each \
            printed as file:line:column: key.path: message; exit status 1.
            """
    )

    @Argument(help: ArgumentHelp("The config file.", valueName: "file"))
    var file: String?

    @Flag(help: "Also validate the policy folder the configuration names (policyDirectory).")
    var policies = false

    func run() throws {
        let loaded: (config: DaemonConfig, file: String?)
        do { loaded = try DaemonConfig.load(path: file) } catch {
            print(error.description)
            throw ExitCode(1)
        }
        if let source = loaded.file {
            print("# \(source): ok")
        } else {
            print("# no config file at \(DaemonConfig.defaultPath): the defaults")
        }
        print(loaded.config.yaml, terminator: "")
        guard policies else { return }
        do {
            let set = try PolicySet.load(directory: loaded.config.policyDirectory, generation: 1)
            print("# policies: \(loaded.config.policyDirectory): ok "
                  + "(\(PolicyValidateCommand.count(set.policies.count)) in \(set.files.count) files)")
        } catch {
            print(error.description)
            throw ExitCode(1)
        }
    }
}
