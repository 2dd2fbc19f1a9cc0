/// Reads a policy's `memory`, `sampling` and `balancing` sections. Each key
/// is optional; an absent one means the daemon's setting.
enum RulesReader {
    static let memoryKeys = ["migrate", "maxRateMBps", "sharedObjects"]
    static let samplingKeys = ["maxSamplesPerRound", "halfWidth", "roundBudget", "hugetlb"]
    static let balancingKeys = ["localityTarget", "margin", "cooldown"]

    static func memory(_ value: YAMLValue, mode: PlacementPolicyMode?) -> MemoryRules? {
        guard let section = value.mapping(allowed: memoryKeys) else { return nil }
        var rules = MemoryRules()
        if let migrate = section["migrate"]?.bool() { rules.migrate = migrate }
        if let rate = section["maxRateMBps"] {
            rules.maxRateMBps = rate.rate()
            if !rules.migrate { rate.error("maxRateMBps has no effect with migrate: false; remove one of them") }
        }
        if let shared = section["sharedObjects"]?.bool() { rules.sharedObjects = shared }
        if mode == .interleave, !rules.migrate, let migrate = section["migrate"] {
            migrate.error("interleave spreads the existing pages, which moves memory: it needs migrate: true")
        }
        return rules
    }

    static func sampling(_ value: YAMLValue) -> SamplingRules? {
        guard let section = value.mapping(allowed: samplingKeys) else { return nil }
        var rules = SamplingRules()
        rules.maxSamplesPerRound = section["maxSamplesPerRound"]?.int(in: SamplingLimits.samplesPerRound)
        rules.halfWidth = section["halfWidth"]?.double(in: SamplingLimits.halfWidth)
        rules.roundBudget = section["roundBudget"]?.duration(in: SamplingLimits.roundBudget)
        if let hugetlb = section["hugetlb"]?.bool() { rules.hugetlb = hugetlb }
        return rules
    }

    static func balancing(_ value: YAMLValue, mode: PlacementPolicyMode?) -> BalancingRules? {
        guard let section = value.mapping(allowed: balancingKeys) else { return nil }
        var rules = BalancingRules()
        for key in ["localityTarget", "margin"] {
            guard let entry = section[key] else { continue }
            let number = entry.double(in: 0...1, what: "a fraction between 0 and 1")
            if key == "localityTarget" { rules.localityTarget = number } else { rules.margin = number }
            if let mode, mode != .auto {
                entry.error("\(key) shapes mode auto's decisions; with mode \(mode.rawValue) it has no effect")
            }
        }
        rules.cooldown = section["cooldown"]?.duration(in: .zero ... .seconds(3600))
        return rules
    }
}

/// Bounds shared by the daemon's config and policies, so both refuse the
/// same nonsense with the same words.
enum SamplingLimits {
    /// Below 64 pages an estimate is noise; above 2²⁰ a round costs more than
    /// reading numa_maps.
    static let samplesPerRound = 64...1_048_576
    /// ±0.1 pp is more than a sample can give; ±25 pp says nothing.
    static let halfWidth = 0.001...0.25
    /// One round of one process in move_pages.
    static let roundBudget: ClosedRange<Duration> = .milliseconds(1) ... .seconds(1)
}
