import Foundation
import NUMAModel
import NUMAProc
import NUMASystem

/// One line of the journal. Each action gets an `intent` line before it is
/// carried out (with what it will replace) and an `outcome` line after; an
/// intent without an outcome is an action a crash interrupted. `restore`
/// adds `restored` lines naming the id it undid.
public struct JournalEntry: Hashable, Sendable, Codable {
    public enum Phase: String, Hashable, Sendable, Codable { case intent, outcome, restored }

    public var id: String
    public var phase: Phase
    /// Wall-clock seconds since the epoch.
    public var time: Double
    /// Who acted: "numabalance rebalance (pid 4242)".
    public var by: String
    public var action: Action?
    public var replaced: Replaced?
    public var outcome: ActionOutcome?
    /// For `restored`: the id of the action undone.
    public var restores: String?
    public var note: String?

    public init(id: String, phase: Phase, time: Double, by: String, action: Action? = nil,
                replaced: Replaced? = nil, outcome: ActionOutcome? = nil, restores: String? = nil,
                note: String? = nil) {
        self.id = id
        self.phase = phase
        self.time = time
        self.by = by
        self.action = action
        self.replaced = replaced
        self.outcome = outcome
        self.restores = restores
        self.note = note
    }
}

/// The journal: JSON lines appended with O_APPEND and fsync'd one by one, so
/// a crash loses at most the line being written (a torn last line is
/// skipped and counted when reading).
public struct Journal: Sendable {
    public let path: String
    /// Past this size the journal is compacted after an append (JournalCompaction).
    public var compactAt: Int

    public init(path: String, compactAt: Int = Journal.compactionBytes) {
        self.path = path
        self.compactAt = compactAt
    }

    /// /var/lib/numabalance for root; else `$NUMABALANCE_STATE_DIR`,
    /// `$XDG_STATE_HOME/numabalance` or ~/.local/state/numabalance. Root
    /// ignores the variable: a folder an environment picks (a demo's /tmp
    /// path) is one others may have made first (security review 3.1); root
    /// names another folder with --state-dir.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment,
                                        isRoot: Bool = Host.isRoot) -> String {
        if isRoot { return "/var/lib/numabalance" }
        if let dir = environment["NUMABALANCE_STATE_DIR"], !dir.isEmpty { return dir }
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/numabalance" }
        return (environment["HOME"] ?? "/tmp") + "/.local/state/numabalance"
    }

    public static func inDirectory(_ directory: String) -> Journal {
        Journal(path: directory + "/journal.jsonl")
    }

    /// Appends one entry and fsyncs it; creates the folder (0700) and the file (0600).
    public func append(_ entry: JournalEntry) throws(ActuationError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var data = try? encoder.encode(entry) else { throw .journal("cannot encode an entry") }
        data.append(UInt8(ascii: "\n"))
        if let problem = OwnFolder.prepare((path as NSString).deletingLastPathComponent) { throw .journal(problem) }
        let fd = try openLocked()
        defer { FileIO.close(fd) }
        let size: Int64
        switch FileStatus.of(fd: fd) {
        case .success(let info): size = info.size
        case .failure(let error): throw .journal("cannot stat \(path): \(Errno.text(error.errno))")
        }
        // A crash mid-write leaves a last line with no newline; an entry glued
        // to it would be lost with it (and restore would undo an act twice).
        if size > 0, case .success(let last) = FileIO.read(fd: fd, count: 1, at: size - 1),
           last.count == 1, last[0] != UInt8(ascii: "\n") {
            data.insert(UInt8(ascii: "\n"), at: 0)
        }
        if case .failure(let error) = FileIO.writeAll(fd: fd, [UInt8](data), name: path) {
            throw .journal("cannot write \(path): \(Errno.text(error.errno))")
        }
        if case .failure(let error) = FileIO.sync(fd: fd, name: path) {
            throw .journal("cannot fsync \(path): \(Errno.text(error.errno))")
        }
        // The entry is safe; a compaction that fails leaves the file as it was.
        if Int(size) + data.count > compactAt { try? compact(locked: fd) }
    }

    /// The journal opened for appending, with an exclusive flock(2): appends
    /// by the daemon and by `rebalance` never interleave, and a compaction
    /// (which replaces the file) never loses one. Never through a symlink:
    /// root appending to a link someone planted in a writable folder writes
    /// into the link's target. Read-write, to look at the last byte.
    private func openLocked() throws(ActuationError) -> Int32 {
        for _ in 0..<8 {
            let fd: Int32
            switch FileIO.open(path, [.readWrite, .append, .create, .noFollow], permissions: 0o600) {
            case .success(let opened): fd = opened
            case .failure(let error) where error.errno == Errno.symbolicLoop:
                throw .journal("\(path) is a symbolic link: refused (the journal is written only as a regular file)")
            case .failure(let error):
                throw .journal("cannot open \(path): \(Errno.text(error.errno)); --state-dir names another folder")
            }
            guard case .success(let opened) = FileStatus.of(fd: fd), opened.kind == .regular else {
                FileIO.close(fd)
                throw .journal("\(path) is not a regular file: refused")
            }
            // A compaction may have replaced the file while we waited: the
            // lock must be on the one the path names now. (The open file
            // keeps its inode from reuse, so the same device and inode at
            // the path is this very file, still linked.)
            if case .success = FileIO.waitForExclusiveLock(fd: fd, name: path),
               case .success(let locked) = FileStatus.of(fd: fd),
               case .success(let named) = FileStatus.of(path, followLinks: false),
               named.inode == locked.inode, named.device == locked.device {
                return fd
            }
            FileIO.close(fd)
        }
        throw .journal("cannot lock \(path): it keeps being replaced")
    }

    /// Every entry, oldest first, and how many lines could not be read (a
    /// torn last line after a crash). A missing journal is empty.
    public func read() throws(ActuationError) -> (entries: [JournalEntry], damaged: Int) {
        guard FileManager.default.fileExists(atPath: path) else { return ([], 0) }
        try Self.checkFolder((path as NSString).deletingLastPathComponent)
        let text: String
        switch readText(path) {
        case .success(let read): text = read
        case .failure(let error): throw .journal("cannot read \(path): \(Errno.text(error.errno))")
        }
        let decoder = JSONDecoder()
        var entries: [JournalEntry] = []
        var damaged = 0
        for line in text.split(separator: "\n") where !line.isEmpty {
            if let entry = try? decoder.decode(JournalEntry.self, from: Data(line.utf8)) {
                entries.append(entry)
            } else {
                damaged += 1
            }
        }
        return (entries, damaged)
    }
}

extension Journal {
    /// The journal's folder, when it exists, is one of our own (OwnFolder).
    static func checkFolder(_ folder: String) throws(ActuationError) {
        if let problem = OwnFolder.problem(folder) { throw .journal(problem) }
    }

    /// The affinity numabalance last set on this very process and did not
    /// undo; nil when none. PinOwnership.owner compares it with what the
    /// threads have now.
    public func ownAffinity(of identity: ProcessIdentity) -> CPUSet? {
        guard let entries = try? read().entries else { return nil }
        let undone = Set(entries.compactMap(\.restores))
        for entry in entries.reversed() where entry.phase == .outcome && !undone.contains(entry.id) {
            guard let action = entry.action, entry.outcome?.status == .done else { continue }
            switch action {
            case .setAffinity(let a) where a.process == identity: return a.cpus
            case .swap(let s) where s.a == identity || s.b == identity: return s.a == identity ? s.aCPUs : s.bCPUs
            default: continue
            }
        }
        return nil
    }
}
