// What each broken file must fail with, stated here and not only in the
// golden files (which the code's own output once wrote): the line and the
// key path of every error, in order. A change to either side shows here.
// The golden files keep the full text (BrokenFileTests).
import Testing
@testable import NUMAPolicy

enum BrokenFileExpectations {
    /// File → [(line, key path)] of its errors; "" where the error has no
    /// key (a YAML syntax error, a missing top key).
    static let errors: [String: [(line: Int, keyPath: String)]] = [
        "auto-with-nodes.yaml": [(8, "placement.nodes")],
        "bad-duration.yaml": [(9, "sampling.roundBudget"), (11, "balancing.cooldown")],
        "bad-enum-value.yaml": [(7, "placement.mode"), (16, "placement.group")],
        "bad-regex.yaml": [(6, "match.cmdline")],
        "bad-unit-and-size.yaml": [(5, "match.unit[0]"), (5, "match.unit[1]"), (6, "match.minRSS")],
        "catch-all-first.yaml": [(3, "name")],
        "comm-too-long.yaml": [(5, "match.comm[0]")],
        "config-bad-kernel-balancing.yaml": [(2, "kernelBalancing"), (3, "logLevel")],
        "config-non-loopback-metrics.yaml": [(3, "metrics.listen")],
        "config-scan-period.yaml": [(2, "scanPeriod.min"), (5, "sampling.halfWidth")],
        "config-unknown-keys.yaml": [(1, "scanPeriods"), (3, "stateDirectory"), (5, "migration.maxRateMBps"), (6, "migration.reserveMargin"), (8, "metrics.listen")],
        "duplicate-key.yaml": [(7, "match.comm")],
        "duplicate-policy-name.yaml": [(11, "name")],
        "empty-match.yaml": [(4, "match")],
        "ignore-with-rules.yaml": [(5, "match.user[1]"), (8, "placement.group"), (9, "memory")],
        "impossible-node.yaml": [(9, "placement.nodes[1]")],
        "missing-api-version.yaml": [(1, "")],
        "multi-document-one-bad.yaml": [(18, "memory.migrate")],
        "negative-node.yaml": [(8, "placement.nodes[1]"), (8, "placement.nodes[2]")],
        "negative-rate.yaml": [(10, "memory.maxRateMBps")],
        "nodes-bad-list.yaml": [(8, "placement.nodes"), (9, "placement.cpuNodes")],
        "one-per-node-without-group.yaml": [(9, "placement.spread")],
        "pin-cpuless-node.yaml": [(9, "placement.nodes"), (19, "placement.cpuNodes[1]")],
        "pin-without-nodes.yaml": [(7, "placement.mode")],
        "tab-indentation.yaml": [(5, "")],
        "unknown-nested-key.yaml": [(7, "placement.mode"), (8, "placement.nodez"), (10, "memory.maxRateMbps")],
        "unknown-top-key.yaml": [(4, "priority")],
        "wrong-kind.yaml": [(2, "kind")],
        "wrong-type-list-for-map.yaml": [(5, "match")],
        "wrong-type-string-for-int.yaml": [(9, "sampling.maxSamplesPerRound")],
        "yaml-syntax-error.yaml": [(6, "")],
    ]
}
