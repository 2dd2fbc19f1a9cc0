import NUMAModel
import Synchronization

/// The migration budget as the actuator spends it: a token bucket in bytes
/// that fills at the MB/s rate up to one burst (about a second's worth).
/// Moves are cut in batches of at most one burst, and each batch waits for
/// its tokens, so a long move runs at the rate and can stop between batches.
/// A bucket may draw from a parent too (a policy's own rate within the
/// daemon's): every byte is spent from both, so no set of policies moves
/// faster than the daemon's total (security review 6.5).
public final class TokenBucket: Sendable {
    public let bytesPerSecond: Double
    public let burstSeconds: Double
    /// The bucket every byte is also spent from.
    public let parent: TokenBucket?
    private let clock: any KernelInterface
    private struct State {
        var tokens: Double
        var last: Double
    }
    private let state: Mutex<State>

    public init(bytesPerSecond: Double, burstSeconds: Double = 1, clock: any KernelInterface,
                within parent: TokenBucket? = nil) {
        self.bytesPerSecond = max(1, bytesPerSecond)
        self.burstSeconds = max(0.01, burstSeconds)
        self.parent = parent
        self.clock = clock
        let full = self.bytesPerSecond * self.burstSeconds
        state = Mutex(State(tokens: full, last: clock.now()))
    }

    /// The most one batch may move: a burst's worth (of the parent's too).
    public var capacity: Double { min(bytesPerSecond * burstSeconds, parent?.capacity ?? .infinity) }

    /// Tokens in the bucket now (and in its parent).
    public var available: Double {
        let now = clock.now()
        return min(state.withLock { refill(&$0, now: now) }, parent?.available ?? .infinity)
    }

    /// Whether `bytes` can be spent at once, without waiting: the condition
    /// for one uninterruptible call (migrate_pages, mbind with a move).
    public func fitsNow(_ bytes: UInt64) -> Bool { Double(bytes) <= available }

    /// Takes `bytes` (at most a burst), sleeping until the bucket holds them,
    /// then until the parent does. Returns the seconds waited.
    @discardableResult
    public func take(_ bytes: UInt64) -> Double {
        let amount = min(Double(bytes), capacity)
        let waited = takeOwn(amount)
        return waited + (parent?.take(UInt64(amount)) ?? 0)
    }

    private func takeOwn(_ amount: Double) -> Double {
        var waited = 0.0
        while true {
            let now = clock.now()
            let missing = state.withLock { s -> Double in
                let tokens = refill(&s, now: now)
                if tokens >= amount {
                    s.tokens -= amount
                    return 0
                }
                return amount - tokens
            }
            if missing <= 0 { return waited }
            let pause = missing / bytesPerSecond
            clock.sleep(seconds: pause)
            waited += pause
        }
    }

    /// Spends tokens for bytes already moved in one call that could not wait
    /// (the bucket may go negative: later batches then wait longer).
    public func charge(_ bytes: UInt64) {
        let now = clock.now()
        state.withLock { s in
            _ = refill(&s, now: now)
            s.tokens -= Double(bytes)
        }
        parent?.charge(bytes)
    }

    /// Pages per batch: a burst's worth, at least one.
    public func batchPages(pageSize: UInt64, limit: Int) -> Int {
        max(1, min(limit, Int(capacity / Double(max(pageSize, 1)))))
    }

    private func refill(_ s: inout State, now: Double) -> Double {
        if now > s.last {
            s.tokens = min(bytesPerSecond * burstSeconds, s.tokens + (now - s.last) * bytesPerSecond)
            s.last = now
        }
        return s.tokens
    }
}

/// A request to stop between batches (SIGINT, the daemon's SIGTERM).
public final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func request() { flag.store(true, ordering: .releasing) }
    public var isRequested: Bool { flag.load(ordering: .acquiring) }
}

/// How far a memory move has come, for a progress line.
public struct MoveProgress: Sendable {
    public var action: String
    public var bytesDone: UInt64
    public var bytesTotal: UInt64
    public var seconds: Double

    public init(action: String, bytesDone: UInt64, bytesTotal: UInt64, seconds: Double) {
        self.action = action
        self.bytesDone = bytesDone
        self.bytesTotal = bytesTotal
        self.seconds = seconds
    }
}

/// What every action is carried out with.
public struct ActuationOptions: Sendable {
    public var budget: TokenBucket
    public var stop: StopSignal
    public var progress: (@Sendable (MoveProgress) -> Void)?
    /// Pages per move_pages call, whatever the budget.
    public var maxPagesPerCall: Int
    /// A shared object is mapped in windows of this many bytes.
    public var objectWindowBytes: UInt64
    /// numabalance's own pid, never acted on.
    public var selfPID: Int32
    /// The program each process ran when it was sampled: an act on one that
    /// runs another since (an exec, setuid or not) is refused.
    public var sampledImages: [ProcessIdentity: ProgramImage] = [:]
    /// Threads a large move_pages move is split over (a node's mover: the
    /// node's CPUs); 1 moves on the calling thread alone.
    public var parallelism = 1

    public init(budget: TokenBucket, stop: StopSignal = StopSignal(),
                progress: (@Sendable (MoveProgress) -> Void)? = nil, maxPagesPerCall: Int = 65_536,
                objectWindowBytes: UInt64 = 256 << 20, selfPID: Int32) {
        self.budget = budget
        self.stop = stop
        self.progress = progress
        self.maxPagesPerCall = maxPagesPerCall
        self.objectWindowBytes = objectWindowBytes
        self.selfPID = selfPID
    }
}
