// `numa-lab topologies`: the guest shapes `run --topology` accepts.
import ArgumentParser
import Foundation

struct TopologiesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topologies",
        abstract: "List the guest topologies (nodes, CPUs, memory, distances)."
    )

    @Flag(help: "Print the table as JSON (nodes with cpus and memoryMiB, distances).")
    var json = false

    func run() throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(LabTopology.all)
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(LabTopology.all.map(\.listing).joined(separator: "\n\n"))
        }
    }
}
