import Foundation
import NUMABalancing
import NUMAModel

extension RebalanceReport {
    /// The human report.
    var text: String {
        var lines: [String] = []
        lines.append("rebalance pid \(pid) (\(TerminalText.escaped(comm))), \(mode) mode\(dryRun ? ", dry run: nothing changed" : "")")
        lines.append("decision: \(decision)")
        lines.append("locality: \(Output.percent(before.locality)) before → \(Output.percent(after.locality)) after (re-sampled)")
        let rows = [["node", "pages before", "pages after", "CPU before", "CPU after"]] + before.nodes.map { node in
            let later = after.nodes.first { $0.id == node.id }
            return ["\(node.id)", Output.percent(node.pageShare), Output.percent(later?.pageShare),
                    Output.percent(node.cpuShare), Output.percent(later?.cpuShare)]
        }
        lines.append(Output.table(rows).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        if actions.isEmpty { lines.append("actions: none") }
        for (index, action) in actions.enumerated() {
            lines.append("action \(index + 1): \(action.kind) [\(action.status)] \(action.summary)")
            lines.append("  why: \(action.reason)")
            if let method = action.method { lines.append("  how: \(method), \(String(format: "%.2f", action.seconds)) s") }
            for item in action.notMoved { lines.append("  not moved: \(item.pages) pages: \(item.reason)") }
            if let error = action.error { lines.append("  error: \(error)") }
        }
        for item in deferred { lines.append("deferred: \(item.reason)") }
        for item in missingCapabilities { lines.append("would fail: \(item)") }
        lines.append("moved \(pagesMoved) pages (\(Output.bytes(bytesMoved))), \(pagesNotMoved) not moved, in \(String(format: "%.2f", seconds)) s")
        if let journal { lines.append("journal: \(journal)") }
        return lines.joined(separator: "\n")
    }
}
