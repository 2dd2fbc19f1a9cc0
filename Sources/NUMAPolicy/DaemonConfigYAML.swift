import Foundation

extension DaemonConfig {
    /// The configuration as a commented YAML file, every key present: what
    /// `numabalance config check` prints, and a template an operator can
    /// save as /etc/numabalance/numabalance.yaml. Reading it back gives the
    /// same configuration.
    public var yaml: String {
        let choices = { (all: [String]) in all.joined(separator: " | ") }
        var lines: [String] = [
            "# numabalance daemon configuration (every key optional; shown with its effective value).",
            "",
            "# What to do with kernel.numa_balancing: \(choices(KernelBalancing.allCases.map(\.rawValue))).",
            "# The mode follows the sysctl as found: 0 is standalone, anything else hybrid.",
            "kernelBalancing: \(kernelBalancing.rawValue)",
            "# Decide and log, never act.",
            "dryRun: \(dryRun)",
            "# \(choices(LogLevel.allCases.map(\.rawValue)))",
            "logLevel: \(logLevel.rawValue)",
            "# Journal, lock and saved sysctl value.",
            "stateDirectory: \(Self.quoted(stateDirectory))",
            "# Control socket for `numabalance status`.",
            "runtimeDirectory: \(Self.quoted(runtimeDirectory))",
            "# Policy files (*.yaml), applied in lexical order of their names.",
            "policyDirectory: \(Self.quoted(policyDirectory))",
            "# Ping systemd's watchdog when the unit sets WatchdogSec=.",
            "watchdog: \(watchdog)",
            "",
            "# How often each process is sampled (durations: 500ms, 30s, 2m, 1h).",
            "scanPeriod:",
            "  min: \(Units.format(scanPeriod.min))",
            "  max: \(Units.format(scanPeriod.max))",
            "  # A process seen misplaced once, its threads on one node, is looked at again this soon.",
            "  secondLook: \(Units.format(scanPeriod.secondLook))",
            "",
            "sampling:",
            "  # Pages queried per second over all processes (about 250 ns each).",
            "  maxSamplesPerSecond: \(sampling.maxSamplesPerSecond)",
            "  # Most pages queried in one round of one process.",
            "  maxSamplesPerRound: \(sampling.maxSamplesPerRound)",
            "  # Half-width of the 95 % interval of a node's page share (0.02 = ±2 pp).",
            "  halfWidth: \(Self.number(sampling.halfWidth))",
            "  # Longest one round of one process may spend in move_pages.",
            "  roundBudget: \(Units.format(sampling.roundBudget))",
            "  # Processes with less resident memory are not sampled (a policy that names them still applies).",
            "  minRSS: \(Units.formatSize(sampling.minResidentBytes))",
            "",
            "balancing:",
            "  # Locality at or above which a process is left alone (0…1).",
            "  localityTarget: \(Self.number(balancing.localityTarget))",
            "  # How much a new preferred node must beat the current one (0.125 = 12.5 %).",
            "  margin: \(Self.number(balancing.margin))",
            "  # A process acted on is left alone this long.",
            "  cooldown: \(Units.format(balancing.cooldown))",
            "",
            "migration:",
            "  # Migration budget over all processes, MiB/s.",
            "  maxRateMBps: \(Self.number(migration.maxRateMBps))",
            "  # Free memory kept on a node above its high watermark, fraction of the node.",
            "  reserveMargin: \(Self.number(migration.reserveMargin))",
            "",
            "# Prometheus metrics over HTTP, loopback only; off unless listen is set.",
            "metrics:",
        ]
        if let listen = metrics.listen {
            lines.append("  listen: \(Self.quoted(listen.description))")
        } else {
            lines.append("  listen: off    # e.g. 127.0.0.1:9464")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Every key as `section.key` with its value as the file writes it
    /// ("1s", "32MiB", "off"), for `config check --json`. Read off `yaml`,
    /// so the two never differ.
    public var settings: [String: String] {
        var result: [String: String] = [:]
        var section = ""
        for line in yaml.split(separator: "\n") {
            let body = line.drop(while: { $0 == " " })
            guard !body.hasPrefix("#"), let colon = body.firstIndex(of: ":") else { continue }
            let key = String(body[..<colon])
            var value = body[body.index(after: colon)...].drop(while: { $0 == " " })
            if let comment = value.range(of: "    # ") { value = value[..<comment.lowerBound] }
            let nested = line.hasPrefix("  ")
            if !nested { section = value.isEmpty ? key : "" }
            guard !value.isEmpty else { continue }
            result[nested ? section + "." + key : key] = Self.unquoted(String(value))
        }
        return result
    }

    /// The inverse of `quoted`.
    static func unquoted(_ text: String) -> String {
        guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else { return text }
        var result = ""
        var escaped = false
        for character in text.dropFirst().dropLast() {
            if escaped || character != "\\" { result.append(character); escaped = false } else { escaped = true }
        }
        return result
    }

    /// Shortest decimal that reads back to the same Double; integers without ".0".
    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// Quoted when YAML would read the text as something else.
    static func quoted(_ text: String) -> String {
        let plain = text.allSatisfy { $0.isLetter || $0.isNumber || "/._-@".contains($0) }
        return plain && !text.isEmpty ? text : "\"" + text.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
