import NUMAModel

/// Inputs for timing the engine alone: the many-small machine observed once
/// while every process is local (the engine warms up and knows them all),
/// then once after a fifth of them ran away from their memory.
public struct EngineWorkload: Sendable {
    public var topology: Topology
    public var warm: [Observation]
    public var misplaced: [Observation]

    public static func manySmall(nodes: Int = 8, seed: UInt64 = 1) -> EngineWorkload {
        let initial = Scenario.manySmall.build(nodes: nodes, seed: seed)
        var local = Scenario.manySmall.hardBind(initial)
        // Hard bind pins by hand; here the processes are merely local, free to move.
        for p in local.processes.indices {
            local.processes[p].affinity = Array(repeating: true, count: nodes)
            local.processes[p].affinityOwner = .unrestricted
        }
        var sampler = SimSampler(seed: seed)
        local.run(interval: 1)
        let warm = local.processes.indices.map { sampler.observe(&local, process: $0, now: 1, mode: .standalone) }
        var moved = initial
        for p in moved.processes.indices { moved.processes[p].lastSampled = 1 }
        moved.run(interval: 1)
        let misplaced = moved.processes.indices.map {
            sampler.observe(&moved, process: $0, now: 2, mode: .standalone)
        }
        return EngineWorkload(topology: moved.topology, warm: warm, misplaced: misplaced)
    }
}
