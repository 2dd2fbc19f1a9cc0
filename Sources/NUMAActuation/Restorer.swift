import Foundation
import NUMAModel
import NUMASystem
import NUMAProc

/// What `restore` did with one journalled action.
public struct RestoreResult: Hashable, Sendable, Codable {
    public enum Status: String, Hashable, Sendable, Codable { case restored, skipped, failed }
    public var id: String
    public var pid: Int32
    public var kind: String
    public var status: Status
    public var detail: String
}

/// Undoes what can be undone, newest first: each thread's affinity as it
/// was (threads born since get the main thread's old affinity), and a shared
/// object's policy. Memory moves are not undone (the pages stay; the next
/// decision moves them if that is better). Processes that exited, or whose
/// pid is now another process, are skipped.
public struct Restorer: Sendable {
    public var kernel: any KernelInterface
    public var journal: Journal
    public var selfPID: Int32
    public var by: String

    public init(kernel: any KernelInterface, journal: Journal, selfPID: Int32, by: String) {
        self.kernel = kernel
        self.journal = journal
        self.selfPID = selfPID
        self.by = by
    }

    public func restore(pid: Int32? = nil) throws(ActuationError) -> [RestoreResult] {
        let entries = try journal.read().entries
        let undone = Set(entries.compactMap(\.restores))
        // The latest line per id: the outcome when there is one, else the intent.
        var latest: [String: JournalEntry] = [:]
        var order: [String] = []
        for entry in entries where entry.phase != .restored {
            if latest[entry.id] == nil { order.append(entry.id) }
            latest[entry.id] = entry
        }
        var results: [RestoreResult] = []
        for id in order.reversed() where !undone.contains(id) {
            guard let entry = latest[id], let action = entry.action, let replaced = entry.replaced,
                  !replaced.isEmpty else { continue }
            if let pid, !action.processes.contains(where: { $0.pid == pid }) { continue }
            let result = undo(action, replaced: replaced, id: id)
            if result.status == .restored {
                try journal.append(JournalEntry(id: id, phase: .restored, time: Date().timeIntervalSince1970,
                                                by: by, action: action, restores: id, note: result.detail))
            }
            results.append(result)
        }
        return results
    }

    private func undo(_ action: Action, replaced: Replaced, id: String) -> RestoreResult {
        let pid = action.processes.first?.pid ?? 0
        for identity in action.processes {
            if case .failure(let error) = ProcessGuard.check(identity, kernel: kernel, selfPID: selfPID) {
                return RestoreResult(id: id, pid: identity.pid, kind: action.kind, status: .skipped, detail: error.description)
            }
        }
        if let affinity = replaced.affinity {
            return restoreAffinity(action, affinity: affinity, id: id)
        }
        if case .setObjectPolicy(let a) = action, let policy = replaced.objectPolicy {
            return restorePolicy(a, policy: policy, id: id)
        }
        return RestoreResult(id: id, pid: pid, kind: action.kind, status: .skipped, detail: "nothing to undo")
    }

    private func restoreAffinity(_ action: Action, affinity: [ThreadAffinity], id: String) -> RestoreResult {
        let old = Dictionary(affinity.map { ($0.tid, $0.cpus) }, uniquingKeysWith: { a, _ in a })
        var set = 0
        var texts: [String] = []
        for identity in action.processes {
            let pid = identity.pid
            let fallback = old[pid] ?? affinity.map(\.cpus).reduce(CPUSet()) { $0.union($1) }
            guard case .success(let tids) = kernel.threadIDs(pid) else { continue }
            for tid in tids {
                let cpus = old[tid] ?? fallback
                switch kernel.setAffinity(ofThread: tid, to: cpus) {
                case .success: set += 1
                case .failure(let error) where error.errno == Errno.noSuchProcess: continue
                case .failure(let error):
                    return RestoreResult(id: id, pid: pid, kind: action.kind, status: .failed,
                                         detail: error.errno == Errno.notPermitted ? "\(error): needs CAP_SYS_NICE" : error.description)
                }
            }
            texts.append("pid \(pid): \(tids.count) thread(s) back to CPUs \(Set(tids.map { (old[$0] ?? fallback).listFormat }).sorted().joined(separator: " "))")
        }
        return RestoreResult(id: id, pid: action.processes.first?.pid ?? 0, kind: action.kind, status: .restored,
                             detail: texts.joined(separator: "; ") + " (\(set) set)")
    }

    private func restorePolicy(_ action: SetObjectPolicy, policy: MemoryPolicySpec, id: String) -> RestoreResult {
        let pid = action.via.pid
        guard case .success(let maps) = kernel.mappings(pid) else {
            return RestoreResult(id: id, pid: pid, kind: "setObjectPolicy", status: .skipped, detail: "pid \(pid) is gone")
        }
        let targets = action.mappings(in: maps)
        guard !targets.isEmpty else {
            return RestoreResult(id: id, pid: pid, kind: "setObjectPolicy", status: .skipped,
                                 detail: "pid \(pid) no longer maps \(action.objectKey)")
        }
        for mapping in targets {
            switch kernel.openSharedObject(pid: pid, mapping: mapping, window: 0..<mapping.bytes) {
            case .success(let view):
                defer { view.close() }
                if case .failure(let error) = view.applyPolicy(policy, moveShared: false) {
                    return RestoreResult(id: id, pid: pid, kind: "setObjectPolicy", status: .failed, detail: error.description)
                }
            case .failure(let error):
                return RestoreResult(id: id, pid: pid, kind: "setObjectPolicy", status: .failed, detail: error.description)
            }
        }
        return RestoreResult(id: id, pid: pid, kind: "setObjectPolicy", status: .restored,
                             detail: "\(action.objectKey) back to policy \(policy) (its pages stay where they are)")
    }
}
