import NUMAModel
import NUMAPlacement
import NUMASimulation

/// The human-readable simulation report: a line per round, then the table
/// against the baselines.
enum SimulationText {
    static func render(_ report: SimulationReport) -> String {
        var lines: [String] = []
        lines.append("scenario \(report.scenario) · \(report.mode.rawValue) · \(report.nodes) nodes × 4 CPUs · seed \(report.seed)")
        lines.append("")
        lines.append(row("round", "locality", "moved", "kernel moved", "actions", "observed", "plan ms"))
        for r in report.rounds {
            lines.append(row("\(r.round)", pct(r.locality), ByteCount.short(r.bytesMoved), ByteCount.short(r.kernelBytesMoved),
                             "\(r.actions)", "\(r.observed)", String(format3(r.planMillis))))
        }
        let f = report.final
        lines.append("")
        lines.append(row("", "locality", "bytes moved", "", "", "", ""))
        let ratio = f.movedOverMisplaced.map { "\(format2($0))× misplaced" } ?? "nothing misplaced"
        lines.append(row("numabalance", pct(f.locality), ByteCount.short(f.bytesMoved), ratio, "", "", ""))
        lines.append(row("no balancing", pct(report.baselines.none.locality), "0 B", "", "", "", ""))
        lines.append(row("hard bind", pct(report.baselines.hardBind.locality), ByteCount.short(f.misplacedBytes),
                         "(the misplaced bytes)", "", "", ""))
        lines.append("")
        lines.append("rounds to 90 %: \(f.roundsTo90.map(String.init) ?? "never") · plan time max \(format3(f.planMillisMax)) ms · engine state \(ByteCount.short(UInt64(f.engineStateBytes)))")
        lines.append("most a range moved: \(format2(f.maxRangeMoveRatio))× its size · affinity changes that overfilled a node: \(f.overfillingActions) · busiest node \(pct(f.maxNodeLoad)) of its CPUs (no balancing: \(pct(report.baselines.none.maxNodeLoad)))")
        if f.kernelBytesMoved > 0 || report.mode == .hybrid {
            lines.append("moved by numabalance \(ByteCount.short(f.engineBytesMoved)), by the kernel's balancer \(ByteCount.short(f.kernelBytesMoved))")
        }
        if let gap = report.gapReason { lines.append("gap to hard bind: \(gap)") }
        if !report.explanations.isEmpty {
            lines.append("")
            lines.append("first actions:")
            lines += report.explanations.map { "  " + $0 }
        }
        return lines.joined(separator: "\n")
    }

    private static func row(_ cells: String...) -> String {
        let widths = [14, 10, 12, 22, 8, 9, 8]
        return zip(cells, widths).map { $0.padding($1) }.joined(separator: " ").trimmingTrailingSpaces()
    }

    private static func pct(_ value: Double) -> String { "\(format1(value * 100)) %" }
    private static func format1(_ v: Double) -> String { "\((v * 10).rounded() / 10)" }
    private static func format2(_ v: Double) -> String { "\((v * 100).rounded() / 100)" }
    private static func format3(_ v: Double) -> String { "\((v * 1000).rounded() / 1000)" }
}

private extension String {
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }

    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
