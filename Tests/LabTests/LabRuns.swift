// One guest per topology, shared by every check about it, and one guest at a
// time: two TCG guests on two cores are slow enough to time out.
import Testing

actor LabRuns {
    static let shared = LabRuns()

    /// The scripts each topology's single guest runs.
    static let scripts = [
        "2x2": "two-by-two.sh",
        "4x1": "four-by-one.sh",
        "2x2+mem": "topology.sh",
    ]

    private var runs: [String: Task<LabRun, Error>] = [:]
    private var lastBoot: Task<Void, Never>?

    /// The run of `topology`'s guest, booting it on first use. Boots are
    /// chained, so even checks of different topologies never overlap guests.
    func run(_ topology: String) async throws -> LabRun {
        try LabGuest.requireAvailable()
        if let existing = runs[topology] { return try await existing.value }
        guard let script = Self.scripts[topology] else { throw LabFailure("no lab script for \(topology)") }
        let previous = lastBoot
        let boot = Task {
            await previous?.value
            return try await LabGuest.boot(topology: topology, script: script)
        }
        runs[topology] = boot
        lastBoot = Task { _ = try? await boot.value }
        return try await boot.value
    }

    /// The run, after checking that the guest ran the script to its end.
    func completedRun(_ topology: String) async throws -> LabRun {
        let run = try await run(topology)
        guard run.exitCode == 0 else {
            throw LabFailure("the \(topology) guest did not run its script to the end\n\(run.summary)")
        }
        return run
    }
}

/// Every lab check, in one serialized suite: its nested suites share the
/// guests through LabRuns. Skipped (with the reason printed) where the lab
/// cannot run, except under Tests/run or CI, where it runs and fails instead.
@Suite("Lab: real multi-node guests", .serialized, .enabled("the lab needs root and QEMU") { LabGuest.shouldRun() })
struct LabTests {}
