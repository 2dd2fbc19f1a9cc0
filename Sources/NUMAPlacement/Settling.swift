import NUMAModel

/// Whether a process is still setting up, and so not placed yet: its first
/// look (how many threads it runs is not known to be steady; the kernel too
/// waits numa_balancing_scan_delay_ms before a task's first scan), its
/// resident memory still growing, or its thread count changed since the
/// last look. The daemon asks before planning; numa01's workers start after
/// their buffer is touched, and a pin taken during the touching would count
/// one thread where two will run.
public enum Settling {
    /// A process that keeps changing is placed anyway after this many rounds.
    public static let roundsMax = 5

    /// Resident memory grown by a sixteenth (and at least 4 MiB) per second
    /// of `seconds` between the looks (a second at most): the process is
    /// still setting up. An emulated guest touches some 10 MiB a second, so
    /// looks a few hundred milliseconds apart see only a few MiB, and the
    /// same toucher must not read as settled because it was looked at sooner.
    public static func stillAllocating(before: UInt64?, now: UInt64, seconds: Double = 1) -> Bool {
        guard let before else { return false }
        let scale = min(1, max(0.05, seconds))
        return Double(now) > Double(before) + Double(max(before / 16, 4 << 20)) * scale
    }

    /// Why a process is still setting up, if it is: only before it was once
    /// seen settled, and for at most `roundsMax` rounds in a row. Once
    /// settled, growth is not setting up (a PostgreSQL backend touching more
    /// of the shared buffers is placed as it is).
    public static func reason(settled: Bool, rounds: Int, previous: Observation?, previousRSS: UInt64?,
                              now: Observation) -> String? {
        guard !settled, rounds < roundsMax else { return nil }
        return reason(previous: previous, previousRSS: previousRSS, now: now)
    }

    public static func reason(previous: Observation?, previousRSS: UInt64?, now: Observation) -> String? {
        reason(previousThreads: previous?.threads.count, previousRSS: previousRSS,
               threads: now.threads.count, rss: now.rssBytes,
               seconds: previous.map { now.time - $0.time } ?? 1)
    }

    /// The same rule from counts alone (a stat read gives both).
    public static func reason(previousThreads: Int?, previousRSS: UInt64?, threads: Int, rss: UInt64,
                              seconds: Double = 1) -> String? {
        if stillAllocating(before: previousRSS, now: rss, seconds: seconds) {
            return "resident \(mebibytes(previousRSS)) → \(mebibytes(rss)) since the last look"
        }
        guard let previousThreads else { return "first look, its threads counted once" }
        if previousThreads != threads { return "threads \(previousThreads) → \(threads) since the last look" }
        return nil
    }

    static func mebibytes(_ bytes: UInt64?) -> String { bytes.map { "\($0 >> 20) MiB" } ?? "-" }
}
