import NUMAModel
import NUMAPrivileges
import NUMAProc
import NUMASystem

/// The page side of one round: what was queried and what it says.
struct PageRound {
    var pages: PagePlacement
    var addresses: [UInt64]
    var statuses: [Int32]
    var design: SampleDesign
    var probeSeconds: Double
    var events: [String]
    /// The process exited part-way: the round reports what it had by then.
    var exited: Bool
}

extension ProcessSampler {
    /// Queries a first design, then draws more while the interval is too wide
    /// (sparse mappings, clustered nodes), within the ceiling and time budget.
    func samplePages(pid: Int32, sampler: AddressSampler, options: SamplingOptions,
                     status: ProcessStatus) throws(SamplingError) -> PageRound {
        let probeStart = Clock.monotonicSeconds()
        var design = initialDesign(options)
        var runs = sampler.runs(count: design.runs, runLength: design.runLength, seed: options.seed)
        var addresses = runs.flatMap { $0 }
        var statuses = try probe(pid, addresses, status)
        var pages = PlacementEstimator.estimate(statuses: statuses, runLengths: runs.map(\.count))
        var events: [String] = []
        var exited = false
        var draw: UInt64 = 1
        // Stop as soon as every node's interval is narrow enough: a skewed
        // placement needs far fewer pages than the worst case p = 0.5.
        while !options.fixedSampleCount, SamplePlanner.widestInterval(pages) > options.halfWidth,
              addresses.count < options.maxSamples, UInt64(addresses.count) < sampler.totalPages,
              Clock.monotonicSeconds() - probeStart < options.budgetSeconds
        {
            // What this round has learned decides the rest of it: runs while
            // neighbours disagree enough, random pages once they cluster.
            let residentFraction = Double(pages.resident + 1) / Double(addresses.count + 1)
            let needed = SamplePlanner.effectivePagesNeeded(for: pages, halfWidth: options.halfWidth)
            let next = SamplePlanner.topUp(deficit: needed - pages.effectiveSampleSize,
                                           designEffect: pages.designEffect,
                                           residentFraction: residentFraction,
                                           remaining: options.maxSamples - addresses.count)
            design.runLength = next.runLength
            let more = sampler.runs(count: next.runs, runLength: next.runLength, seed: options.seed &+ draw)
            let moreAddresses = more.flatMap { $0 }
            do {
                statuses += try probe(pid, moreAddresses, status)
            } catch .noSuchProcess(_) {
                events.append("the process exited during the round; the estimate uses the pages queried before")
                exited = true
                break
            }
            addresses += moreAddresses
            runs += more
            pages = PlacementEstimator.estimate(statuses: statuses, runLengths: runs.map(\.count))
            draw += 1
        }
        design.pages = addresses.count
        let probeSeconds = Clock.monotonicSeconds() - probeStart

        let vanished = exited ? [] : vanishedAddresses(pid: pid, addresses: addresses, statuses: statuses)
        if !vanished.isEmpty {
            events.append("\(vanished.count) sampled addresses were unmapped during the round")
            pages = PlacementEstimator.estimate(statuses: statuses, runLengths: runs.map(\.count),
                                                vanished: vanished)
        }
        if addresses.count >= 1000, pages.resident * 20 < addresses.count {
            events.append("sparse: \(pages.resident) of \(addresses.count) sampled pages resident "
                + "(memory reserved but never touched)")
        }
        return PageRound(pages: pages, addresses: addresses, statuses: statuses, design: design,
                         probeSeconds: probeSeconds, events: events, exited: exited)
    }

    private func initialDesign(_ options: SamplingOptions) -> SampleDesign {
        if options.fixedSampleCount { return SampleDesign(runLength: 1, pages: options.initialSamples) }
        if let pilot = options.pilotPages { return SampleDesign(runLength: 1, pages: max(1, pilot)) }
        return SamplePlanner.choose(designEffect: options.previousDesignEffect,
                                    residentFraction: options.previousResidentFraction,
                                    halfWidth: options.halfWidth, maxPages: options.maxSamples,
                                    budgetSeconds: options.budgetSeconds)
    }

    private func probe(_ pid: Int32, _ addresses: [UInt64], _ status: ProcessStatus)
        throws(SamplingError) -> [Int32]
    {
        switch prober.query(pid: pid, addresses: addresses) {
        case .success(let statuses): return statuses
        case .failure(.noSuchProcess): throw .noSuchProcess(pid: pid)
        case .failure(.notPermitted):
            throw .notPermitted(pid: pid, denied: "move_pages", explanation: Privileges.current()
                .explainReadDenied(pid: pid, status: status))
        case .failure(.failed(let errno)): throw .probeFailed(pid: pid, errno: errno)
        }
    }

    /// -Errno.badAddress also answers for an address whose mapping is gone: a fresh
    /// read of maps tells a vanished address from a page never touched.
    private func vanishedAddresses(pid: Int32, addresses: [UInt64], statuses: [Int32]) -> Set<Int> {
        guard statuses.contains(-Errno.badAddress), let now = try? procfs.maps(pid) else { return [] }
        let current = AddressSampler(regions: now.map { EligibleRegion(start: $0.start, end: $0.end) },
                                     pageSize: pageSize)
        var gone = Set<Int>()
        for (i, status) in statuses.enumerated() where status == -Errno.badAddress {
            if current.region(ofAddress: addresses[i]) == nil { gone.insert(i) }
        }
        return gone
    }
}
