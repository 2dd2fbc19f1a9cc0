// A policy's own migration rate draws from the daemon's (security review
// 6.5): two policies at the daemon's rate together move no faster than it.
@testable import NUMAActuation
import Testing

@Suite("Token buckets within the daemon's")
struct TokenBucketTests {
    @Test("two policy buckets at 100 pages/s within a daemon's 100 pages/s: 1,000 pages each take 19 s, not 9")
    func policiesShareTheDaemonsRate() {
        let kernel = RecordingKernel()
        let page: UInt64 = 4096
        let daemon = TokenBucket(bytesPerSecond: Double(100 * page), clock: kernel)
        let a = TokenBucket(bytesPerSecond: Double(100 * page), clock: kernel, within: daemon)
        let b = TokenBucket(bytesPerSecond: Double(100 * page), clock: kernel, within: daemon)
        // Alternating batches of a burst, as two stretches of acts would.
        for _ in 0..<10 {
            a.take(100 * page)
            b.take(100 * page)
        }
        let slept = kernel.state.withLock { $0.slept }
        // 2,000 pages at the daemon's 100 a second, the first burst free.
        #expect(abs(slept - 19) < 0.01, "slept \(slept) s")
    }

    @Test("a child's burst and availability are bounded by its parent's; a charge is spent from both")
    func boundedByParent() {
        let kernel = RecordingKernel()
        let daemon = TokenBucket(bytesPerSecond: 1000, clock: kernel)
        let policy = TokenBucket(bytesPerSecond: 5000, clock: kernel, within: daemon)
        #expect(policy.capacity == 1000)
        #expect(policy.fitsNow(1000) && !policy.fitsNow(1001))
        policy.charge(600)
        #expect(daemon.available == 400)
        #expect(policy.available == 400)
        #expect(TokenBucket(bytesPerSecond: 1000, clock: kernel).parent == nil)
    }
}
