import NUMAPolicy
import NUMASampling

/// How a process under a policy is sampled: the policy's own settings, else
/// the daemon's. One rule for the daemon's rounds and `policy plan`.
public enum PolicySampling {
    public static func options(for policy: Policy, config: SamplingConfig) -> SamplingOptions {
        var options = SamplingOptions()
        options.maxSamples = policy.sampling.maxSamplesPerRound ?? config.maxSamplesPerRound
        options.halfWidth = policy.sampling.halfWidth ?? config.halfWidth
        options.budgetSeconds = (policy.sampling.roundBudget ?? config.roundBudget).inSeconds
        options.hugetlb = policy.sampling.hugetlb
        return options
    }
}
