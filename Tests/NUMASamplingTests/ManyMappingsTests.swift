import Foundation
import Glibc
import NUMAModel
import NUMAProc
import NUMATopology
import Testing

@testable import NUMASampling

/// Issue 15, point 15 (security review 5.4): every round reads and parses
/// the whole of /proc/PID/maps, and anyone may map a hundred thousand
/// regions (or millions, where vm.max_map_count was raised). The parse now
/// runs in place over the text, and a round reads at most
/// `SamplingOptions.mapsByteLimit` bytes of it, saying so when it cuts.
@Suite("A process with 100,000 mappings", .serialized)
struct ManyMappingsTests {
    static let maxMapCount = "/proc/sys/vm/max_map_count"

    /// Linux refuses more than vm.max_map_count mappings (65,530 by default).
    static func raiseMapLimit() throws {
        let now = Int((try? String(contentsOfFile: maxMapCount, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        guard now < 262_144 else { return }
        try "262144\n".write(toFile: maxMapCount, atomically: false, encoding: .utf8)
    }

    @Test("sampled whole under the default limit; with a 1 MiB limit, from its first mappings, said in an event",
          .enabled("needs root to raise vm.max_map_count above 100,000 (Tests/run runs as root)") {
              geteuid() == 0 || !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty
          })
    func manyMappings() throws {
        try Self.raiseMapLimit()
        let node = try TopologyReader().read().nodes.first { $0.hasMemory && $0.hasCPUs }?.id.rawValue ?? 0
        let (pid, ready) = try startWorkload(["many-mappings", "--count", "100000", "--mem-node", "\(node)",
                                              "--cpu-node", "\(node)", "--seconds", "120"])
        defer { reap(pid) }
        let touched = try #require(ready.split(separator: " ").first { $0.hasPrefix("touched=") }
            .flatMap { Int($0.dropFirst("touched=".count)) }, "\(ready)")
        let sampler = ProcessSampler(topology: try TopologyReader().read())
        var options = SamplingOptions()
        options.cpuInterval = .zero
        options.budgetSeconds = 5   // a debug build
        let whole = try sampler.observe(pid: pid, options: options)
        #expect(!whole.observation.events.contains { $0.contains("maps is longer") }, "\(whole.observation.events)")
        // rw- and r-- anonymous pages alternate: 100,000 eligible one-page regions.
        let page: UInt64 = 4096
        #expect(whole.observation.eligibleBytes >= 100_000 * page, "\(whole.observation.eligibleBytes / page) eligible pages")
        #expect(whole.observation.pages.resident > 0, "none of the \(touched) touched pages found")
        print("100,000 mappings: maps read and parsed in \(Int(whole.mapsSeconds * 1000)) ms")

        options.mapsByteLimit = 1 << 20
        let cut = try sampler.observe(pid: pid, options: options)
        let note = cut.observation.events.first { $0.contains("maps is longer than 1048576 bytes") }
        #expect(note != nil, "no event of the cut: \(cut.observation.events)")
        // 1 MiB of lines of about 50 bytes: some 20,000 of the one-page
        // mappings, after the program's own (its heap, its stacks).
        let kept = cut.observation.eligibleBytes / page
        #expect(kept > 5_000 && kept < 40_000, "\(kept) eligible pages from 1 MiB of maps")
    }
}
