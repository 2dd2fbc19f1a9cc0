/// How many pages the next move_pages call takes. A call cannot be
/// interrupted, so a batch should last about `callSeconds` (a stop or an
/// exit is then seen within about that); but every call also has a fixed
/// cost whatever its size: the kernel disables the per-CPU LRU caches for
/// it (an expedited RCU grace period and a drain on every CPU). In an
/// emulated guest whose CPUs were busy that cost was 1.2 s a call, and
/// sizing by the average rate alone shrank a sparse heap's 128 MiB into 116
/// calls of 1 MiB (149 s). So each call's time is modelled as
/// `fixed + pages / rate`, fitted over the calls so far, and a batch is
/// never so small that the fixed cost outweighs its copying.
struct BatchSizer {
    static let callSeconds = 0.25
    /// The smallest batch, however slow the calls.
    static let minimum = 256

    private(set) var current: Int
    let limit: Int
    /// (pages, seconds) of the latest calls, for the fit.
    private var calls: [(pages: Double, seconds: Double)] = []
    private static let remembered = 8

    init(first: Int, limit: Int) {
        self.limit = limit
        current = min(first, limit)
    }

    /// Takes a call's measure and sets the next batch. A call that took no
    /// measurable time leaves the size as it is.
    mutating func record(pages: Int, seconds: Double) {
        guard seconds > 0.001, pages > 0 else { return }
        calls.append((Double(pages), seconds))
        if calls.count > Self.remembered { calls.removeFirst() }
        let (fixed, rate) = fit()
        let copying = rate * Self.callSeconds
        // Copying for at least as long as the call's fixed cost.
        let amortised = rate * fixed
        let wanted = max(copying, amortised)
        current = max(min(Self.minimum, limit), min(limit, Int(min(wanted, Double(Int.max / 2)))))
    }

    /// Least squares of seconds = fixed + pages / rate over the remembered
    /// calls; with one size only, or a fit that makes no sense (noise), the
    /// average rate with no fixed cost.
    private func fit() -> (fixed: Double, rate: Double) {
        let n = Double(calls.count)
        let sumP = calls.reduce(0) { $0 + $1.pages }, sumT = calls.reduce(0) { $0 + $1.seconds }
        let average = (fixed: 0.0, rate: sumP / sumT)
        let meanP = sumP / n, meanT = sumT / n
        let spread = calls.reduce(0) { $0 + ($1.pages - meanP) * ($1.pages - meanP) }
        guard calls.count >= 2, spread > 0 else { return average }
        let slope = calls.reduce(0) { $0 + ($1.pages - meanP) * ($1.seconds - meanT) } / spread
        let fixed = meanT - slope * meanP
        guard slope > 0, fixed >= 0 else { return average }
        return (fixed, 1 / slope)
    }
}
