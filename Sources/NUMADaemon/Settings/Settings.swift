import Foundation
import NUMAModel
import NUMAPolicy

/// What the daemon runs with: the config and the policy set. A reload
/// builds a new value whole and swaps it in, or keeps the old one.
public struct Settings: Sendable {
    public var config: DaemonConfig
    /// The file read; nil when no file exists and defaults are in force.
    public var configFile: String?
    public var policies: PolicySet

    public var generation: UInt64 { policies.generation }
}

/// Command-line values that win over the config file's (tests and
/// one-off runs), and the config path itself.
public struct SettingsSource: Sendable {
    public var configPath: String?
    public var dryRun: Bool?
    public var kernelBalancing: KernelBalancing?
    public var stateDirectory: String?
    public var runtimeDirectory: String?
    public var policyDirectory: String?
    public var logLevel: LogLevel?

    public init(configPath: String? = nil, dryRun: Bool? = nil, kernelBalancing: KernelBalancing? = nil,
                stateDirectory: String? = nil, runtimeDirectory: String? = nil, policyDirectory: String? = nil,
                logLevel: LogLevel? = nil) {
        self.configPath = configPath
        self.dryRun = dryRun
        self.kernelBalancing = kernelBalancing
        self.stateDirectory = stateDirectory
        self.runtimeDirectory = runtimeDirectory
        self.policyDirectory = policyDirectory
        self.logLevel = logLevel
    }

    /// Reads the config, applies the overrides, then loads the policy
    /// folder it names. All errors of all files, each with file:line:column.
    /// As root, the config, the policy folder and its files must be root's
    /// alone (TrustedFile): whoever can change them steers the daemon.
    public func load(generation: UInt64, topology: Topology?) throws(ConfigErrorList) -> Settings {
        let rule = TrustedFile.Rule.forThisProcess
        var (config, file) = try DaemonConfig.load(path: configPath, rule: rule)
        if let dryRun { config.dryRun = dryRun }
        if let kernelBalancing { config.kernelBalancing = kernelBalancing }
        if let stateDirectory { config.stateDirectory = stateDirectory }
        if let runtimeDirectory { config.runtimeDirectory = runtimeDirectory }
        if let policyDirectory { config.policyDirectory = policyDirectory }
        if let logLevel { config.logLevel = logLevel }
        let policies = try PolicySet.load(directory: config.policyDirectory, generation: generation,
                                          topology: topology, rule: rule)
        return Settings(config: config, configFile: file, policies: policies)
    }
}

/// Keys that a reload cannot change in a running daemon (folders, sockets
/// and privileges are set up at start): the reload keeps the old value and says so.
extension DaemonConfig {
    func restartOnlyChanges(to new: DaemonConfig) -> [String] {
        var keys: [String] = []
        if stateDirectory != new.stateDirectory { keys.append("stateDirectory") }
        if runtimeDirectory != new.runtimeDirectory { keys.append("runtimeDirectory") }
        if kernelBalancing != new.kernelBalancing { keys.append("kernelBalancing") }
        if metrics != new.metrics { keys.append("metrics.listen") }
        return keys
    }

    /// `new`, with the keys that need a restart left as they are.
    func reloaded(from new: DaemonConfig) -> DaemonConfig {
        var merged = new
        merged.stateDirectory = stateDirectory
        merged.runtimeDirectory = runtimeDirectory
        merged.kernelBalancing = kernelBalancing
        merged.metrics = metrics
        return merged
    }
}
