import NUMAPlacement
import Testing

@Suite("Migration budget")
struct BudgetTests {
    @Test("a move larger than the burst goes from a full bucket, and its debt holds back the next")
    func largerThanBurst() {
        var budget = MigrationBudget(bytesPerSecond: Double(32 << 20), burstSeconds: 1)
        let big = budget.spend(256 << 20)                 // full: 256 MiB goes, 224 MiB owed
        #expect(big)
        budget.refill(now: 0)
        budget.refill(now: 6)                             // 192 MiB paid back: still 32 MiB owed
        let early = budget.spend(4096)
        #expect(!early)
        budget.refill(now: 8)                             // paid, 32 MiB earned
        let paid = budget.spend(16 << 20)
        let tooMuch = budget.spend(32 << 20)              // not full: a normal move must fit
        #expect(paid && !tooMuch)
    }
}
