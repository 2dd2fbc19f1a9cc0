import NUMAModel
import NUMASystem

/// Pages a move left behind, and why (the kernel's per-page status).
public struct PagesNotMoved: Hashable, Sendable, Codable {
    public var reason: String
    public var pages: Int

    public init(reason: String, pages: Int) {
        self.reason = reason
        self.pages = pages
    }
}

/// What carrying out one action did.
public struct ActionOutcome: Hashable, Sendable, Codable {
    public enum Status: String, Hashable, Sendable, Codable {
        /// Done in full (or there was nothing left to do).
        case done
        /// Done, but some pages could not be moved (`notMoved` says why).
        case partial
        /// The process exited while the action ran.
        case exited
        /// Stopped on request between batches.
        case stopped
        /// Not done: `error` says why (not permitted, a stranger's pid…).
        case failed
        /// Dry run: what would be done.
        case wouldDo = "would-do"
    }

    public var status: Status
    /// One line: "set 3 threads to CPUs 2-3", "moved 16384 pages (64.0 MiB) to node 1".
    public var summary: String
    /// How: "migrate_pages", "move_pages in 4 batches", "mbind MPOL_MF_MOVE_ALL".
    public var method: String?
    public var pagesMoved: Int
    public var bytesMoved: UInt64
    public var notMoved: [PagesNotMoved]
    /// Threads whose affinity changed.
    public var threads: Int
    public var seconds: Double
    /// The kernel's own count (pgmigrate_success) over the action: system-wide.
    public var kernelMigratedPages: UInt64?
    public var error: String?

    public init(status: Status, summary: String, method: String? = nil, pagesMoved: Int = 0,
                bytesMoved: UInt64 = 0, notMoved: [PagesNotMoved] = [], threads: Int = 0,
                seconds: Double = 0, kernelMigratedPages: UInt64? = nil, error: String? = nil) {
        self.status = status
        self.summary = summary
        self.method = method
        self.pagesMoved = pagesMoved
        self.bytesMoved = bytesMoved
        self.notMoved = notMoved
        self.threads = threads
        self.seconds = seconds
        self.kernelMigratedPages = kernelMigratedPages
        self.error = error
    }

    public static func failed(_ error: ActuationError, seconds: Double = 0) -> ActionOutcome {
        switch error {
        case .exited:
            return ActionOutcome(status: .exited, summary: error.description, seconds: seconds)
        case .noSuchProcess:
            // Gone between the look and the act: a normal event, not a failure.
            return ActionOutcome(status: .exited, summary: "the process exited before the act (\(error))",
                                 seconds: seconds)
        default: break
        }
        return ActionOutcome(status: .failed, summary: "not done", seconds: seconds, error: error.description)
    }

    public var pagesNotMoved: Int { notMoved.reduce(0) { $0 + $1.pages } }
}

/// One thread's affinity before numabalance changed it.
public struct ThreadAffinity: Hashable, Sendable, Codable {
    public var tid: Int32
    public var cpus: CPUSet

    public init(tid: Int32, cpus: CPUSet) {
        self.tid = tid
        self.cpus = cpus
    }
}

/// What an action replaced, so `restore` can put it back.
public struct Replaced: Hashable, Sendable, Codable {
    /// Each thread's affinity before (the main thread's stands for threads born later).
    public var affinity: [ThreadAffinity]?
    /// The shared object's policy before (memory moves are not undone).
    public var objectPolicy: MemoryPolicySpec?

    public init(affinity: [ThreadAffinity]? = nil, objectPolicy: MemoryPolicySpec? = nil) {
        self.affinity = affinity
        self.objectPolicy = objectPolicy
    }

    public var isEmpty: Bool { affinity == nil && objectPolicy == nil }
}

/// An action with what carrying it out did and what it replaced.
public struct ActionRecord: Hashable, Sendable, Codable {
    public var action: Action
    public var outcome: ActionOutcome
    public var replaced: Replaced?

    public init(action: Action, outcome: ActionOutcome, replaced: Replaced? = nil) {
        self.action = action
        self.outcome = outcome
        self.replaced = replaced
    }
}

/// The reason behind a page status of move_pages, in words.
public enum PageStatusText {
    /// Pages other processes map too (a library's data not yet copied on
    /// write, memory shared after fork): not this process's alone to move,
    /// so leaving them is no failure of the move.
    public static let sharedReason = "shared with another process (MPOL_MF_MOVE moves only pages this process alone maps)"
    public static let busyReason = "busy: locked, under I/O or pinned (e.g. by DMA or io_uring)"
    public static let raceReason = "the kernel could not migrate it (busy, or it raced with a fault)"

    public static func reason(errno code: Int32) -> String {
        switch code {
        case Errno.accessDenied: sharedReason
        case Errno.busy: busyReason
        case Errno.noMemory: "no free memory on the destination node"
        case Errno.ioError: "could not be written back before the move"
        case Errno.invalid: "cannot be migrated (a special or dirty page the filesystem will not move)"
        case Errno.badAddress, Errno.notFound: "no longer resident"
        case Errno.noDevice: "destination node is not online"
        case Errno.crossDevice: "destination node is not allowed for this process (cpuset)"
        default: "kernel refused: \(Errno.text(code))"
        }
    }
}
