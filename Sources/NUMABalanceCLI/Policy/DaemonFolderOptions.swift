import ArgumentParser
import NUMAPolicy

/// The daemon's folders, for the commands that change what it reads:
/// given on the command line, else from its config file.
struct DaemonFolderOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The daemon's policy folder (default: from the config).", valueName: "dir"))
    var policyDir: String?

    @Option(help: ArgumentHelp("The daemon's runtime folder, where its control socket is (default: from the config).",
                               valueName: "dir"))
    var runtimeDir: String?

    @Option(help: ArgumentHelp("The daemon's config file (default: \(DaemonConfig.defaultPath)).", valueName: "file"))
    var config: String?

    func resolve() throws -> PolicyFolders {
        try PolicyFolders.resolve(config: config, policyDir: policyDir, runtimeDir: runtimeDir)
    }
}
