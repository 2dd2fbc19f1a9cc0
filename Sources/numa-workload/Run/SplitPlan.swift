// The split scenario's placement: 64 KiB blocks, each first-touched on a node
// drawn by the shares with a seeded generator, so a run can be replayed.

struct NodeShare: Sendable, Equatable {
    var node: Int
    var weight: Double
}

struct SplitPlan: Sendable {
    static let blockBytes = 64 << 10

    var shares: [NodeShare]
    var seed: UInt64

    /// Parses `0:0.7,1:0.3`; weights need not sum to 1 (they are normalised).
    static func parseShares(_ text: String) throws -> [NodeShare] {
        let shares = try text.split(separator: ",").map { item -> NodeShare in
            let parts = item.split(separator: ":")
            guard parts.count == 2, let node = Int(parts[0]), node >= 0,
                  let weight = Double(parts[1]), weight >= 0, weight.isFinite else {
                throw WorkloadError("--share wants node:weight pairs like 0:0.7,1:0.3, got '\(item)'")
            }
            return NodeShare(node: node, weight: weight)
        }
        guard !shares.isEmpty, shares.contains(where: { $0.weight > 0 }) else {
            throw WorkloadError("--share needs at least one positive weight")
        }
        guard Set(shares.map(\.node)).count == shares.count else {
            throw WorkloadError("--share names a node twice")
        }
        return shares
    }

    /// The node of every block, in order: the same seed gives the same layout.
    func layout(blocks: Int) -> [Int] {
        let total = shares.reduce(0) { $0 + $1.weight }
        var generator = SplitMix64(seed: seed)
        return (0..<blocks).map { _ in
            var draw = generator.nextUnit() * total
            for share in shares where share.weight > 0 {
                if draw < share.weight { return share.node }
                draw -= share.weight
            }
            return shares.last { $0.weight > 0 }?.node ?? 0
        }
    }

    /// First-touches each block of `region` on its node; returns the blocks
    /// placed per node (in --share order), for the ready line.
    func place(_ region: MemoryRegion) throws -> [(node: Int, blocks: Int)] {
        for share in shares where share.weight > 0 { try NodeCPUs.requireMemory(on: share.node) }
        let nodes = layout(blocks: region.size / Self.blockBytes)
        var start = 0
        // Runs of equal nodes are touched under one policy change.
        while start < nodes.count {
            var end = start + 1
            while end < nodes.count && nodes[end] == nodes[start] { end += 1 }
            try MemoryPolicy.bound(to: nodes[start]) {
                region.touch(start * Self.blockBytes..<end * Self.blockBytes)
            }
            start = end
        }
        return shares.map { share in (share.node, nodes.filter { $0 == share.node }.count) }
    }
}

/// SplitMix64: small, fast and seedable.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform Double in [0, 1).
    mutating func nextUnit() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }
}
