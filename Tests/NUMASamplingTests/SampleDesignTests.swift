import Glibc
import NUMAModel
import Testing

@testable import NUMASampling

@Suite("Choosing the mix of random pages and runs")
struct SampleDesignTests {
    @Test("±2 pp at 95 % needs 2,401 independent pages at p = 0.5")
    func needed() {
        #expect(SamplePlanner.effectivePagesNeeded(halfWidth: 0.02) == 2401)
        #expect(SamplePlanner.effectivePagesNeeded(halfWidth: 0.01) == 9604)
    }

    @Test("runs while neighbours disagree (deff < 2.4), random pages once they cluster")
    func mix() {
        let unknown = SamplePlanner.choose(designEffect: nil, residentFraction: nil, maxPages: 65536, budgetSeconds: 1)
        #expect(unknown.runLength == 16)
        let clustered = SamplePlanner.choose(designEffect: 8, residentFraction: 1, maxPages: 65536, budgetSeconds: 1)
        #expect(clustered.runLength == 1)
        // A pilot of a quarter of the worst case: the round draws more only if needed.
        #expect(clustered.pages == 601)
        let mild = SamplePlanner.choose(designEffect: 2, residentFraction: 1, maxPages: 65536, budgetSeconds: 1)
        #expect(mild.runLength == 16)
        #expect(mild.pages >= 1201)
    }

    @Test("sparse memory asks for more addresses, within the ceiling and the budget")
    func sparse() {
        let sparse = SamplePlanner.choose(designEffect: 8, residentFraction: 0.1, maxPages: 65536, budgetSeconds: 1)
        #expect(sparse.pages == 6003)
        let capped = SamplePlanner.choose(designEffect: 8, residentFraction: 0.001, maxPages: 50000, budgetSeconds: 1)
        #expect(capped.pages == 50000)
        let budget = SamplePlanner.choose(designEffect: 8, residentFraction: 0.01, maxPages: 65536, budgetSeconds: 0.001)
        #expect(budget.pages == 1819)  // 1 ms ÷ 550 ns
    }

    @Test("the round stops once every node's interval is narrow enough: skewed placements need fewer pages")
    func stoppingRule() {
        let even = PagePlacement(queried: 1000, pagesByNode: [0: 500, 1: 500], notResident: 0, failed: 0)
        #expect(SamplePlanner.effectivePagesNeeded(for: even, halfWidth: 0.02) > 2400)
        let skewed = PagePlacement(queried: 1000, pagesByNode: [0: 990, 1: 10], notResident: 0, failed: 0)
        #expect(SamplePlanner.effectivePagesNeeded(for: skewed, halfWidth: 0.02) < 100 + 200)
        #expect(SamplePlanner.widestInterval(skewed) < 0.02)
        #expect(SamplePlanner.widestInterval(even) > 0.02)
        #expect(SamplePlanner.widestInterval(.empty) == 1)
    }

    @Test("runs whose pages agree within each run are worth fewer pages (design effect)")
    func designEffect() {
        // 200 runs of 16: each run all on one node, half the runs per node.
        var statuses: [Int32] = []
        for run in 0..<200 { statuses += [Int32](repeating: Int32(run % 2), count: 16) }
        let clustered = PlacementEstimator.estimate(statuses: statuses, runLengths: [Int](repeating: 16, count: 200))
        #expect(clustered.share(of: 0) == 0.5)
        // Perfect agreement within runs: 200 independent runs, deff = 16.
        #expect(abs(clustered.effectiveSampleSize - 200) < 2)
        #expect(abs(clustered.designEffect - 16) < 0.2)

        // Alternating within every run: runs agree with each other perfectly, no loss.
        let mixed = (0..<3200).map { Int32($0 % 2) }
        let spread = PlacementEstimator.estimate(statuses: mixed, runLengths: [Int](repeating: 16, count: 200))
        #expect(spread.effectiveSampleSize == 3200)
        #expect(spread.designEffect == 1)
    }

    @Test("runs never cross the end of a region")
    func runsStayInside() {
        let sampler = AddressSampler(regions: [
            EligibleRegion(start: 0x1000_0000, end: 0x1000_0000 + 4096 * 20),
            EligibleRegion(start: 0x2000_0000, end: 0x2000_0000 + 4096 * 5000),
        ])
        let runs = sampler.runs(count: 100, runLength: 16, seed: 9)
        #expect(runs.count == 100)
        for run in runs {
            let region = sampler.region(ofAddress: run[0])
            #expect(run.allSatisfy { sampler.region(ofAddress: $0) == region })
            #expect(zip(run, run.dropFirst()).allSatisfy { $1 == $0 + 4096 })
        }
    }
}
