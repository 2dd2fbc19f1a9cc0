import NUMAModel

/// How a round's addresses are drawn: random single pages, or short runs of
/// contiguous pages (cheaper per page, less informative per page).
public struct SampleDesign: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Pages per run; 1 means independent random pages.
    public var runLength: Int
    /// Pages queried in all.
    public var pages: Int

    public init(runLength: Int, pages: Int) {
        self.runLength = runLength
        self.pages = pages
    }

    public var runs: Int { max(1, pages / max(1, runLength)) }

    public var description: String {
        runLength == 1 ? "\(pages) random pages" : "\(runs) runs of \(runLength) pages"
    }
}

/// Chooses the design that reaches the wanted accuracy at the least cost,
/// from the costs measured on this kind of machine (DESIGN.md): a random
/// page ≈ 550 ns, a run of 16 contiguous pages ≈ 3.7 µs. A run is worth
/// 16 / deff independent pages, where deff (the design effect) measures how
/// much neighbouring pages agree on their node.
public enum SamplePlanner {
    public static let randomPageSeconds = 550e-9
    public static let runOf16Seconds = 3.7e-6
    public static let runLength = 16

    /// Independent resident pages for ±`halfWidth` at 95 % when p = 0.5.
    public static func effectivePagesNeeded(halfWidth: Double) -> Int {
        let z = Proportion.z95
        return Int((z * z * 0.25 / (halfWidth * halfWidth)).rounded(.up))
    }

    /// Independent resident pages wanted for ±`halfWidth` at the shares seen
    /// so far (the most uncertain node decides), never fewer than 200.
    public static func effectivePagesNeeded(for pages: PagePlacement, halfWidth: Double) -> Double {
        let z = Proportion.z95
        let worst = pages.shares.values.map { $0 * (1 - $0) }.max() ?? 0.25
        return max(200, z * z * worst / (halfWidth * halfWidth))
    }

    /// The widest 95 % interval over the nodes (1 when nothing is resident).
    public static func widestInterval(_ pages: PagePlacement) -> Double {
        guard pages.resident > 0 else { return 1 }
        return pages.pagesByNode.keys.compactMap { pages.ci95(of: $0) }.max() ?? 1
    }

    /// The first draw of a round: a pilot of a quarter of the worst case
    /// (p = 0.5), since most processes are far from evenly split and the
    /// round draws more only while an interval is still too wide.
    /// - Parameters:
    ///   - designEffect: measured last round with runs (nil: not known yet; runs
    ///     are tried, since they are cheaper when pages cluster by node).
    ///   - residentFraction: share of sampled addresses found resident last
    ///     round (nil: unknown, taken as 1); sparse mappings need more addresses.
    public static func choose(designEffect: Double?, residentFraction: Double?,
                              halfWidth: Double = 0.02, maxPages: Int,
                              budgetSeconds: Double) -> SampleDesign {
        let needed = Double(effectivePagesNeeded(halfWidth: halfWidth)) / 4
        let resident = max(residentFraction ?? 1, 0.01)
        let deff = max(designEffect ?? 1, 1)
        let runCostPerEffective = runOf16Seconds * deff / Double(runLength)
        let useRuns = runCostPerEffective < randomPageSeconds
        let pagesWanted = useRuns ? needed * deff / resident : needed / resident
        let secondsPerPage = useRuns ? runOf16Seconds / Double(runLength) : randomPageSeconds
        let affordable = budgetSeconds / secondsPerPage
        let pages = Int(min(pagesWanted, affordable, Double(maxPages)).rounded(.up))
        let length = useRuns ? runLength : 1
        // At least one full run, and whole runs.
        let rounded = max(length, (pages + length - 1) / length * length)
        return SampleDesign(runLength: length, pages: rounded)
    }

    /// More pages for a round that is short of `deficit` independent pages,
    /// given what it measured so far (at least 256 pages, at most `remaining`).
    public static func topUp(deficit: Double, designEffect: Double, residentFraction: Double,
                             remaining: Int) -> SampleDesign {
        let deff = max(designEffect, 1)
        let useRuns = runOf16Seconds * deff / Double(runLength) < randomPageSeconds
        let perPage = useRuns ? deff : 1
        let wanted = deficit * perPage / max(residentFraction, 0.01)
        let pages = Int(min(max(wanted, 256), Double(max(remaining, 1))).rounded(.up))
        let length = useRuns ? runLength : 1
        return SampleDesign(runLength: length, pages: max(length, pages / length * length))
    }
}
