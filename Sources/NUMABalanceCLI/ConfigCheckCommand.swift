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

            --json prints one line: {"ok": …, "file": FILE or null (the \
            defaults), "settings": {"scanPeriod.min": "1s", …} (every key, its \
            value as the file writes it), "errors": […], "policies": {…} with \
            --policies}, each error {"file", "line", "column", "path", "message"}.
            """
    )

    @Argument(help: ArgumentHelp("The config file.", valueName: "file"))
    var file: String?

    @Flag(help: "Also validate the policy folder the configuration names (policyDirectory).")
    var policies = false

    @Flag(help: "Print the verdict, every setting and every error as one line of JSON.")
    var json = false

    func run() throws {
        if json { return try runJSON() }
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

    private func runJSON() throws {
        struct Report: Encodable {
            var ok: Bool
            var file: String?
            var settings: [String: String]?
            var errors: [FileCheckJSON.Problem]
            var policies: FileCheckJSON?
        }
        var report = Report(ok: true, file: file, errors: [])
        do {
            let loaded = try DaemonConfig.load(path: file)
            report.file = loaded.file
            report.settings = loaded.config.settings
            if policies {
                let folder = loaded.config.policyDirectory
                do {
                    let set = try PolicySet.load(directory: folder, generation: 1)
                    report.policies = FileCheckJSON(path: folder, policies: set.policies.count, files: set.files.count)
                } catch {
                    report.policies = FileCheckJSON(path: folder, failed: error)
                    report.ok = false
                }
            }
        } catch {
            report.ok = false
            report.errors = FileCheckJSON(path: file ?? DaemonConfig.defaultPath, failed: error).errors
        }
        try Output.printJSON(report)
        if !report.ok { throw ExitCode(1) }
    }
}
