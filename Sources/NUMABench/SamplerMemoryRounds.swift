import Foundation
import NUMAModel
import NUMAProc
import NUMASampling
import NUMASystem

/// `bench-sampler --memory-rounds N`: the sampler pool's memory over many
/// rounds (issue 15, point 1). An unread stream of every outcome once grew
/// it 2.4 KB a round, and the pool kept an entry for every pid that came and
/// went; a daemon runs for months, so its resident size must stay flat.
struct SamplerMemoryRounds {
    var rounds: Int
    var steady: Int
    var churn: Int

    /// Churned processes alive at once: each lives a few rounds.
    static let churnAlive = 4

    /// Runs the rounds, printing `rss ROUND KIB REMEMBERED` every `every`
    /// rounds; the last line sums up the spread after warm-up (a tenth of the rounds).
    func run(sampler: ProcessSampler, every: Int = 250) async throws {
        var steadySet: [SpawnedChild] = []
        var churned: [SpawnedChild] = []
        defer { (steadySet + churned).forEach { $0.stop() } }
        for _ in 0..<steady { steadySet.append(try SpawnedChild("/bin/sleep", ["3600"])) }
        let pool = try SamplerPool(sampler: sampler)
        defer { pool.stop() }
        var options = SamplingOptions()
        options.cpuInterval = .zero
        let roundOptions = options
        // A churned process starts every `spacing` rounds and the oldest goes.
        let spacing = max(1, rounds / max(churn, 1))
        var started = 0, failedRounds = 0
        var readings: [(round: Int, kib: Int)] = []
        for round in 1...rounds {
            // Stopped (and reaped) this round, sampled once more: never probed
            // by pid later, which may by then name another process.
            var exited: [Int32] = []
            if churn > 0, round % spacing == 0, started < churn {
                churned.append(try SpawnedChild("/bin/sleep", ["3600"]))
                started += 1
                if churned.count > Self.churnAlive {
                    let gone = churned.removeFirst()
                    gone.stop()
                    // Half are named gone by the caller (the daemon's discovery),
                    // half find out in a failed round, as both happen.
                    if started % 2 == 0 { pool.forget([gone.pid]) } else { exited.append(gone.pid) }
                }
            }
            let pids = (steadySet + churned).map(\.pid) + exited
            failedRounds += pids.count - (await SamplerPool.observedCount(pool, pids: pids, options: roundOptions))
            if round % every == 0 || round == rounds {
                let kib = Int((try? ProcFS().status(Host.pid).vmRSSBytes).flatMap { $0 } ?? 0) / 1024
                readings.append((round, kib))
                print("rss \(round) \(kib) \(pool.rememberedCount)")
            }
        }
        let settled = readings.filter { $0.round > rounds / 10 }.map(\.kib)
        let spread = (settled.max() ?? 0) - (settled.min() ?? 0)
        print("\(rounds) rounds over \(steady) steady and \(started) churned processes (\(failedRounds) rounds of "
              + "exited ones): RSS after round \(rounds / 10) \(settled.min() ?? 0)–\(settled.max() ?? 0) KiB "
              + "(spread \(spread) KiB); the pool remembers \(pool.rememberedCount) processes")
    }
}
