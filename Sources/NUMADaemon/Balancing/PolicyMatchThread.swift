import Foundation
import NUMAModel
import NUMAPolicy
import NUMAProc
import NUMASystem
import Synchronization

/// Matches processes to policies on a thread of its own, for policy sets
/// with `cmdline` regexes. A regex is bounded (4 KiB of text, 50 ms), but
/// a user can start hundreds of processes whose command lines each use up
/// the time limit of every such policy: on the balancing thread that was
/// seconds without a round, a status or a watchdog ping (issue 15, point 2).
/// Here it delays only the processes being matched; they are placed once
/// their answer is back.
final class PolicyMatchThread: Sendable {
    /// One process to match: what `examine` read, and the policies of its generation.
    struct Request: Sendable {
        var identity: ProcessIdentity
        var stat: TaskStat
        var facts: ProcessFacts
        var generation: UInt64
        var matcher: ProcessMatcher
    }

    struct Answer: Sendable {
        var request: Request
        var result: MatchResult
    }

    /// Requests waiting at most: past it, a process waits for a later listing
    /// (memory stays bounded whatever a fork bomb does).
    static let queueLimit = 4096

    private struct State {
        var queue: [Request] = []
        var answers: [Answer] = []
        var stopping = false
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    /// Wakes the loop when an answer is ready and it has none waiting.
    private let answered: @Sendable () -> Void

    init(answered: @escaping @Sendable () -> Void = {}) {
        self.answered = answered
        let thread = Thread { [self] in
            Host.nameThisThread("nb-match")
            main()
        }
        thread.start()
    }

    /// Queues a match; false when the queue is full (try again later).
    func submit(_ request: Request) -> Bool {
        let accepted = state.withLock { state -> Bool in
            guard !state.stopping, state.queue.count < Self.queueLimit else { return false }
            state.queue.append(request)
            return true
        }
        if accepted { wake.signal() }
        return accepted
    }

    /// The answers ready now, oldest first.
    func takeAnswers() -> [Answer] {
        state.withLock { state in defer { state.answers = [] }; return state.answers }
    }

    /// Stops after the match in hand (at most one regex time limit per policy).
    func stop() {
        state.withLock { $0.stopping = true }
        wake.signal()
        done.wait()
    }

    private func main() {
        defer { done.signal() }
        while true {
            let (next, stopping) = state.withLock { state -> (Request?, Bool) in
                if state.stopping { return (nil, true) }
                return (state.queue.isEmpty ? nil : state.queue.removeFirst(), false)
            }
            if stopping { return }
            guard let request = next else {
                wake.wait()
                continue
            }
            let result = request.matcher.match(for: request.facts)
            // The loop takes every answer when it wakes: woken by the first.
            let first = state.withLock { state in
                state.answers.append(Answer(request: request, result: result))
                return state.answers.count == 1
            }
            if first { answered() }
        }
    }
}
