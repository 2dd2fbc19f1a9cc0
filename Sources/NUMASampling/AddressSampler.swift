import NUMAModel

/// A contiguous run of eligible pages, the unit addresses are drawn from.
public struct EligibleRegion: Hashable, Sendable {
    public var start: UInt64
    public var end: UInt64
    public var sharedObject: String?
    /// Huge page size of a hugetlb mapping; 0 for base pages.
    public var pageBytes: UInt64

    public init(start: UInt64, end: UInt64, sharedObject: String? = nil, pageBytes: UInt64 = 0) {
        self.start = start
        self.end = end
        self.sharedObject = sharedObject
        self.pageBytes = pageBytes
    }
}

/// Picks page addresses uniformly over the eligible bytes, stratified: the
/// pages are cut into K equal strata and one page is drawn in each, so every
/// large mapping gets its share of samples and none is left out by chance.
public struct AddressSampler: Sendable {
    public var pageSize: UInt64
    public let regions: [EligibleRegion]
    /// Pages before each region: a prefix sum for mapping an index to an address.
    private let firstPage: [UInt64]
    public let totalPages: UInt64

    public init(regions: [EligibleRegion], pageSize: UInt64 = 4096) {
        self.pageSize = pageSize
        let sorted = regions.filter { $0.end > $0.start }.sorted { $0.start < $1.start }
        self.regions = sorted
        var running: UInt64 = 0
        var first: [UInt64] = []
        first.reserveCapacity(sorted.count)
        for region in sorted {
            first.append(running)
            running += (region.end - region.start) / pageSize
        }
        self.firstPage = first
        self.totalPages = running
    }

    /// `count` page addresses in increasing order (every page when `count`
    /// reaches the total). The same seed gives the same addresses.
    public func addresses(count: Int, seed: UInt64) -> [UInt64] {
        guard totalPages > 0, count > 0 else { return [] }
        if UInt64(count) >= totalPages {
            return (0..<totalPages).map(address(ofPage:))
        }
        var random = SeededGenerator(seed: seed)
        let stratum = Double(totalPages) / Double(count)
        var result: [UInt64] = []
        result.reserveCapacity(count)
        for i in 0..<count {
            let index = min(UInt64((Double(i) + random.nextUnit()) * stratum), totalPages - 1)
            result.append(address(ofPage: index))
        }
        return result
    }

    /// `runs` runs of `runLength` contiguous pages, one run drawn in each of
    /// `runs` equal strata; a run never crosses the end of its region. The
    /// kernel answers move_pages 16 pages per lock, so a run of 16 costs
    /// about as much as 7 random pages.
    public func runs(count runs: Int, runLength: Int, seed: UInt64) -> [[UInt64]] {
        guard runLength > 1 else { return addresses(count: runs, seed: seed).map { [$0] } }
        guard totalPages > 0, runs > 0 else { return [] }
        if UInt64(runs) * UInt64(runLength) >= totalPages {
            return (0..<totalPages).map { [address(ofPage: $0)] }
        }
        var random = SeededGenerator(seed: seed)
        let stratum = Double(totalPages) / Double(runs)
        var result: [[UInt64]] = []
        result.reserveCapacity(runs)
        for i in 0..<runs {
            let index = min(UInt64((Double(i) + random.nextUnit()) * stratum), totalPages - 1)
            let region = self.region(ofPage: index)
            let regionPages = (regions[region].end - regions[region].start) / pageSize
            let length = min(UInt64(runLength), regionPages)
            // Shift the run back so that it ends inside the region.
            let offset = min(index - firstPage[region], regionPages - length)
            result.append((0..<length).map { regions[region].start + (offset + $0) * pageSize })
        }
        return result
    }

    /// The address of the index-th eligible page (binary search over regions).
    public func address(ofPage index: UInt64) -> UInt64 {
        let region = self.region(ofPage: index)
        return regions[region].start + (index - firstPage[region]) * pageSize
    }

    /// Position in `regions` of the region holding the index-th page.
    public func region(ofPage index: UInt64) -> Int {
        var low = 0
        var high = firstPage.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if firstPage[mid] <= index { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// Position in `regions` of the region holding an address, if any.
    public func region(ofAddress address: UInt64) -> Int? {
        var low = 0
        var high = regions.count
        while low < high {
            let mid = (low + high) / 2
            if regions[mid].end <= address { low = mid + 1 } else { high = mid }
        }
        guard low < regions.count, regions[low].start <= address else { return nil }
        return low
    }
}
