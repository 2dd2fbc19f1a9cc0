import NUMAModel

/// One round of a simulation run.
public struct RoundReport: Hashable, Sendable, Codable {
    public var round: Int
    /// Fraction of memory accesses that are local at the end of the round.
    public var locality: Double
    /// Bytes moved this round, by numabalance and (hybrid) by the kernel.
    public var bytesMoved: UInt64
    public var kernelBytesMoved: UInt64
    public var actions: Int
    public var observed: Int
    public var planMillis: Double
}

/// The end of a run, against the misplaced bytes (DESIGN.md: what must move
/// to reach the best static placement).
public struct FinalReport: Hashable, Sendable, Codable {
    public var locality: Double
    public var bytesMoved: UInt64
    public var engineBytesMoved: UInt64
    public var kernelBytesMoved: UInt64
    public var misplacedBytes: UInt64
    /// bytesMoved ÷ misplacedBytes; nil when nothing was misplaced.
    public var movedOverMisplaced: Double?
    /// First round ending with ≥ 90 % locality; nil if none did.
    public var roundsTo90: Int?
    public var planMillisMax: Double
    /// Largest bytes-moved ÷ size over all ranges: above 1, some page moved twice.
    public var maxRangeMoveRatio: Double
    /// Affinity changes that left their node with more runnable demand than CPUs.
    public var overfillingActions: Int
    /// Largest runnable demand ÷ CPUs seen on any node at the end of a round.
    public var maxNodeLoad: Double
    public var engineStateBytes: Int

    enum CodingKeys: String, CodingKey {
        case locality, bytesMoved, engineBytesMoved, kernelBytesMoved, misplacedBytes, movedOverMisplaced
        case roundsTo90, planMillisMax, maxRangeMoveRatio, overfillingActions, maxNodeLoad, engineStateBytes
    }

    // Absent values are written as null: readers can rely on every key.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(locality, forKey: .locality)
        try c.encode(bytesMoved, forKey: .bytesMoved)
        try c.encode(engineBytesMoved, forKey: .engineBytesMoved)
        try c.encode(kernelBytesMoved, forKey: .kernelBytesMoved)
        try c.encode(misplacedBytes, forKey: .misplacedBytes)
        try c.encode(movedOverMisplaced, forKey: .movedOverMisplaced)
        try c.encode(roundsTo90, forKey: .roundsTo90)
        try c.encode(planMillisMax, forKey: .planMillisMax)
        try c.encode(maxRangeMoveRatio, forKey: .maxRangeMoveRatio)
        try c.encode(overfillingActions, forKey: .overfillingActions)
        try c.encode(maxNodeLoad, forKey: .maxNodeLoad)
        try c.encode(engineStateBytes, forKey: .engineStateBytes)
    }
}

public struct BaselineReport: Hashable, Sendable, Codable {
    public var locality: Double
    public var maxNodeLoad: Double
}

public struct Baselines: Hashable, Sendable, Codable {
    /// Nothing balances: threads where the scheduler puts them, pages where
    /// they were first touched.
    public var none: BaselineReport
    /// The best static placement, bound by hand.
    public var hardBind: BaselineReport
}

/// A whole simulation run, as `numabalance simulate --json` prints it.
public struct SimulationReport: Hashable, Sendable, Codable {
    public var scenario: String
    public var mode: PlacementMode
    public var nodes: Int
    public var seed: UInt64
    public var rounds: [RoundReport]
    public var final: FinalReport
    public var baselines: Baselines
    /// Why the run ends below hard bind, when it does by more than 5 points.
    public var gapReason: String?
    /// A sample of the plans' reasons (the first actions of the run).
    public var explanations: [String]
}
