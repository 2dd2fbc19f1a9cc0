import Foundation

extension DaemonConfig {
    static let topKeys = ["kernelBalancing", "dryRun", "logLevel", "stateDirectory", "runtimeDirectory",
                          "policyDirectory", "scanPeriod", "sampling", "balancing", "migration", "metrics",
                          "watchdog"]

    /// The config at `path`. With `path` nil the default path is read, and
    /// its absence means defaults; a path given explicitly must exist.
    /// Returns the file read, nil when defaults were used.
    /// `rule` says whose file it may be (TrustedFile).
    public static func load(path: String?, rule: TrustedFile.Rule = .readable) throws(ConfigErrorList)
        -> (config: DaemonConfig, file: String?) {
        let file = path ?? defaultPath
        if path == nil, !FileManager.default.fileExists(atPath: file) { return (DaemonConfig(), nil) }
        let diagnostics = Diagnostics(file: file)
        guard let text = YAMLDocument.readText(path: file, rule: rule, diagnostics: diagnostics) else {
            throw ConfigErrorList(diagnostics.errors)
        }
        return (try parse(text: text, file: file), file)
    }

    /// The config in YAML `text`, errors naming it `file`. An empty text
    /// (or only comments) is the defaults.
    public static func parse(text: String, file: String) throws(ConfigErrorList) -> DaemonConfig {
        let diagnostics = Diagnostics(file: file)
        let documents = YAMLDocument.documents(in: text, diagnostics: diagnostics)
        var config = DaemonConfig()
        if documents.count > 1 {
            documents[1].error("a config file holds one YAML document; remove the second")
        }
        if let root = documents.first, root.kind != .null, let top = root.mapping(allowed: topKeys) {
            config.read(top)
        }
        guard diagnostics.errors.isEmpty else { throw ConfigErrorList(diagnostics.errors) }
        return config
    }

    private mutating func read(_ top: YAMLMapping) {
        if let value = top["kernelBalancing"]?.choice(KernelBalancing.self) { kernelBalancing = value }
        if let value = top["dryRun"]?.bool() { dryRun = value }
        if let value = top["logLevel"]?.choice(LogLevel.self) { logLevel = value }
        if let value = top["stateDirectory"].flatMap(Self.directory) { stateDirectory = value }
        if let value = top["runtimeDirectory"].flatMap(Self.directory) { runtimeDirectory = value }
        if let value = top["policyDirectory"].flatMap(Self.directory) { policyDirectory = value }
        if let value = top["watchdog"]?.bool() { watchdog = value }
        if let section = top["scanPeriod"]?.mapping(allowed: ["min", "max", "secondLook"]) { readScanPeriod(section) }
        if let section = top["sampling"]?.mapping(allowed: ["maxSamplesPerSecond", "maxSamplesPerRound",
                                                            "halfWidth", "roundBudget", "minRSS"]) {
            readSampling(section)
        }
        if let section = top["balancing"]?.mapping(allowed: RulesReader.balancingKeys) { readBalancing(section) }
        if let section = top["migration"]?.mapping(allowed: ["maxRateMBps", "reserveMargin"]) {
            let noMoves = "to stop memory moves write dryRun: true, or memory.migrate: false in a policy"
            if let value = section["maxRateMBps"]?.rate(zeroHint: noMoves) { migration.maxRateMBps = value }
            if let value = section["reserveMargin"]?.fraction(in: 0...0.5) {
                migration.reserveMargin = value
            }
        }
        if let section = top["metrics"]?.mapping(allowed: ["listen"]) { readMetrics(section) }
    }

    private mutating func readScanPeriod(_ section: YAMLMapping) {
        let minValue = section["min"], maxValue = section["max"]
        let low = minValue?.duration(in: ScanPeriodBounds.bounds)
        let high = maxValue?.duration(in: ScanPeriodBounds.bounds)
        if let low { scanPeriod.min = low }
        if let high { scanPeriod.max = high }
        if let soon = section["secondLook"]?.duration(in: ScanPeriodBounds.secondLookBounds) {
            scanPeriod.secondLook = soon
        }
        // Only when both read well: a bad value was reported already.
        if scanPeriod.min > scanPeriod.max, minValue == nil || low != nil, maxValue == nil || high != nil {
            // Quote the values as written (60s stays 60s), defaults as formatted.
            let lowText = minValue?.node.scalar?.string ?? Units.format(scanPeriod.min)
            let highText = maxValue?.node.scalar?.string ?? Units.format(scanPeriod.max)
            (minValue ?? maxValue)?.error("scanPeriod.min (\(lowText)) is greater than scanPeriod.max (\(highText))")
        }
    }

    private mutating func readSampling(_ section: YAMLMapping) {
        if let value = section["maxSamplesPerSecond"]?.int(in: SamplingConfig.samplesPerSecond) {
            sampling.maxSamplesPerSecond = value
        }
        if let value = section["maxSamplesPerRound"]?.int(in: SamplingLimits.samplesPerRound) {
            sampling.maxSamplesPerRound = value
        }
        if let value = section["halfWidth"]?.double(in: SamplingLimits.halfWidth) { sampling.halfWidth = value }
        if let value = section["roundBudget"]?.duration(in: SamplingLimits.roundBudget) {
            sampling.roundBudget = value
        }
        if let value = section["minRSS"]?.size() { sampling.minResidentBytes = value }
    }

    private mutating func readBalancing(_ section: YAMLMapping) {
        let fraction = "a fraction between 0 and 1"
        if let value = section["localityTarget"]?.double(in: 0...1, what: fraction) {
            balancing.localityTarget = value
        }
        if let value = section["margin"]?.double(in: 0...1, what: fraction) { balancing.margin = value }
        if let value = section["cooldown"]?.duration(in: .zero ... .seconds(3600)) { balancing.cooldown = value }
    }

    private mutating func readMetrics(_ section: YAMLMapping) {
        guard let listen = section["listen"] else { return }
        // `listen: off` (YAML's false) or an empty value turn metrics off explicitly.
        if listen.kind == .null || (listen.kind == .boolean && listen.node.bool == false) {
            metrics.listen = nil
            return
        }
        guard let text = listen.string() else { return }
        switch ListenAddress.parse(text) {
        case let .success(address): metrics.listen = address
        case let .failure(problem): listen.error(problem.description)
        }
    }

    /// An absolute path, without a trailing slash.
    private static func directory(_ value: YAMLValue) -> String? {
        guard let text = value.nonEmptyString() else { return nil }
        guard text.hasPrefix("/") else {
            value.error("a folder must be an absolute path, got \"\(text)\"")
            return nil
        }
        return text.count > 1 && text.hasSuffix("/") ? String(text.dropLast()) : text
    }
}
