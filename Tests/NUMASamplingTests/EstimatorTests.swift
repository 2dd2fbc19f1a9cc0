import Glibc
import NUMAModel
import Testing

@testable import NUMASampling

/// Synthetic move_pages answers with known shares, the kernels' "not resident"
/// codes mixed in (-EFAULT on 6.1, -ENOENT on 6.18).
func statuses(_ counts: [Int32: Int], notResident: Int = 0, failed: Int = 0, seed: UInt64 = 7) -> [Int32] {
    var result: [Int32] = []
    for (node, count) in counts.sorted(by: { $0.key < $1.key }) {
        result += [Int32](repeating: node, count: count)
    }
    for i in 0..<notResident { result.append(i % 2 == 0 ? -EFAULT : -ENOENT) }
    result += [Int32](repeating: -EACCES, count: failed)
    var random = SeededGenerator(seed: seed)
    result.shuffle(using: &random)
    return result
}

@Suite("Page placement estimate from move_pages statuses")
struct EstimatorTests {
    @Test("0.7 / 0.3 with not-resident codes of both kernels mixed in")
    func seventyThirty() {
        let placement = PlacementEstimator.estimate(statuses: statuses([0: 700, 1: 300], notResident: 200))
        #expect(placement.queried == 1200)
        #expect(placement.resident == 1000)
        #expect(placement.notResident == 200)
        #expect(placement.failed == 0)
        #expect(placement.share(of: 0) == 0.7)
        #expect(placement.share(of: 1) == 0.3)
        // Wilson half-width at p = 0.7, n = 1000 is about 2.8 pp.
        let ci = try! #require(placement.ci95(of: 0))
        #expect(abs(ci - 0.0284) < 0.001)
    }

    @Test("0.5 / 0.25 / 0.25 over three nodes, failures counted apart")
    func threeNodes() {
        let placement = PlacementEstimator.estimate(
            statuses: statuses([0: 2000, 1: 1000, 2: 1000], notResident: 50, failed: 10))
        #expect(placement.shares == [0: 0.5, 1: 0.25, 2: 0.25])
        #expect(placement.failed == 10)
        #expect(placement.notResident == 50)
        #expect(placement.majorityNode == 0)
        let ci = try! #require(placement.ci95(of: 1))
        // p = 0.25, n = 4000: 1.96·sqrt(p(1-p)/n) ≈ 1.34 pp.
        #expect(abs(ci - 0.0134) < 0.0005)
    }

    @Test("all on one node: share 1 with a non-zero interval (Wilson, not Wald)")
    func allOneNode() {
        let placement = PlacementEstimator.estimate(statuses: statuses([1: 500], notResident: 10))
        #expect(placement.share(of: 1) == 1)
        #expect(placement.share(of: 0) == 0)
        let ci = try! #require(placement.ci95(of: 1))
        #expect(ci > 0.001 && ci < 0.01)
    }

    @Test("nothing resident: no share, no interval, never NaN")
    func nothingResident() {
        let placement = PlacementEstimator.estimate(statuses: statuses([:], notResident: 64))
        #expect(placement.resident == 0)
        #expect(placement.share(of: 0) == nil)
        #expect(placement.ci95(of: 0) == nil)
        #expect(placement.shares.isEmpty)
    }

    @Test("addresses known to have vanished count as failed, not as not resident")
    func vanished() {
        let answer: [Int32] = [0, -EFAULT, -EFAULT, 1]
        let placement = PlacementEstimator.estimate(statuses: answer, vanished: [2])
        #expect(placement.notResident == 1)
        #expect(placement.failed == 1)
        #expect(placement.resident == 2)
    }

    @Test("the 95 % interval covers the true share in about 95 % of binomial draws")
    func coverage() {
        var random = SeededGenerator(seed: 42)
        let truth = 0.3
        var covered = 0
        let rounds = 400
        for _ in 0..<rounds {
            var counts: [Int32: Int] = [0: 0, 1: 0]
            for _ in 0..<1000 { counts[random.nextUnit() < truth ? 1 : 0, default: 0] += 1 }
            let placement = PlacementEstimator.estimate(statuses: statuses(counts))
            if let share = placement.share(of: 1), let ci = placement.ci95(of: 1),
               abs(share - truth) <= ci { covered += 1 }
        }
        let rate = Double(covered) / Double(rounds)
        #expect(rate >= 0.92 && rate <= 0.99)
    }

    @Test("locality is Σ page share × CPU share, and nil without CPU time")
    func locality() {
        #expect(Locality.of(pageShares: [0: 0.7, 1: 0.3], cpuShares: [1: 1.0]) == 0.3)
        #expect(Locality.of(pageShares: [0: 1.0], cpuShares: nil) == nil)
        #expect(Locality.of(pageShares: [:], cpuShares: [0: 1]) == nil)
    }

    @Test("CPU rate: the threads' CPU seconds over the interval (a clock tick in 3 s is 0.3 % of a CPU); 0 for no interval")
    func cpuRate() {
        func observation(_ seconds: [Double], interval: Double) -> Observation {
            Observation(identity: ProcessIdentity(pid: 7, startTime: 1), comm: "p", time: 1, intervalSeconds: interval,
                        pages: .empty,
                        threads: seconds.enumerated().map { ThreadActivity(tid: Int32($0.offset), cpuSeconds: $0.element,
                                                                           lastCPU: 0, node: 0, state: "S") },
                        allowedCPUs: CPUSet([0]), allowedNodes: [0], rssBytes: 0, eligibleBytes: 0)
        }
        #expect(abs(observation([0.01], interval: 3).cpuRate - 0.0033) < 0.0001)
        #expect(observation([1, 0.5], interval: 1.5).cpuRate == 1)
        #expect(observation([1], interval: 0).cpuRate == 0)
    }

    @Test("percent texts: \"99.9%\" in reports, \"12 %\" in reasons, \"-\" for unknown or not a number")
    func percentTexts() {
        #expect(Percent.text(0.9994) == "99.9%")
        #expect(Percent.text(0.0033) == "0.3%")
        #expect(Percent.text(1, digits: 0) == "100%")
        #expect(Percent.text(0.12345, digits: 2) == "12.35%")
        #expect(Percent.text(0.0005, digits: 2) == "0.05%")
        #expect(Percent.text(-0.5) == "-50.0%")
        #expect(Percent.text(nil) == "-" && Percent.text(.nan) == "-")
        #expect(Percent.whole(0.124) == "12 %" && Percent.whole(1) == "100 %")
    }

    @Test("per-range counts: regions in any order of samples, not-resident apart, a range with no resident sample left out")
    func perRange() {
        let sampler = AddressSampler(regions: [
            EligibleRegion(start: 0x10000, end: 0x20000),
            EligibleRegion(start: 0x40000, end: 0x50000, sharedObject: "shm:7"),
            EligibleRegion(start: 0x60000, end: 0x61000, pageBytes: 2 << 20),
        ])
        // Samples of the second region before and after the first's, one
        // address outside every region, the third region only not resident.
        let addresses: [UInt64] = [0x40000, 0x41000, 0x10000, 0x11000, 0x12000, 0x42000, 0x30000, 0x60000, 0x43000]
        let answers: [Int32] = [1, 1, 0, 0, -EFAULT, 0, 0, -ENOENT, -EACCES]
        let ranges = PlacementEstimator.ranges(sampler: sampler, addresses: addresses, statuses: answers)
        #expect(ranges.count == 2)
        #expect(ranges.first?.start == 0x10000 && ranges.first?.pagesByNode == [0: 2] && ranges.first?.notResident == 1)
        #expect(ranges.last?.sharedObject == "shm:7" && ranges.last?.pagesByNode == [0: 1, 1: 2])
        #expect(ranges.last?.notResident == 0)
    }
}
