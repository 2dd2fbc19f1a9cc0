import Foundation
import Glibc
import NUMAModel
import NUMAProc

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
                                        isRoot: Bool = geteuid() == 0) -> String {
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
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .journal("cannot stat \(path): \(errnoText(errno))") }
        // A crash mid-write leaves a last line with no newline; an entry glued
        // to it would be lost with it (and restore would undo an act twice).
        if info.st_size > 0 {
            var last: UInt8 = 0
            if pread(fd, &last, 1, info.st_size - 1) == 1, last != UInt8(ascii: "\n") {
                data.insert(UInt8(ascii: "\n"), at: 0)
            }
        }
        guard Self.writeAll(fd, data) else { throw .journal("cannot write \(path): \(errnoText(errno))") }
        guard fsync(fd) == 0 else { throw .journal("cannot fsync \(path): \(errnoText(errno))") }
        // The entry is safe; a compaction that fails leaves the file as it was.
        if Int(info.st_size) + data.count > compactAt { try? compact(locked: fd) }
    }

    /// Writes all of `data` (write(2) may write less); false on an error.
    static func writeAll(_ fd: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
    }

    /// The journal opened for appending, with an exclusive flock(2): appends
    /// by the daemon and by `rebalance` never interleave, and a compaction
    /// (which replaces the file) never loses one. Never through a symlink:
    /// root appending to a link someone planted in a writable folder writes
    /// into the link's target. Read-write, to look at the last byte.
    private func openLocked() throws(ActuationError) -> Int32 {
        for _ in 0..<8 {
            let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard fd >= 0 else {
                if errno == ELOOP { throw .journal("\(path) is a symbolic link: refused (the journal is written only as a regular file)") }
                throw .journal("cannot open \(path): \(errnoText(errno)); --state-dir names another folder")
            }
            var info = stat()
            guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
                close(fd)
                throw .journal("\(path) is not a regular file: refused")
            }
            var rc: Int32
            repeat { rc = flock(fd, LOCK_EX) } while rc != 0 && errno == EINTR
            // A compaction may have replaced the file while we waited: the
            // lock must be on the one the path names now.
            var now = stat()
            if rc == 0, fstat(fd, &info) == 0, info.st_nlink > 0, lstat(path, &now) == 0,
               now.st_ino == info.st_ino, now.st_dev == info.st_dev {
                return fd
            }
            close(fd)
        }
        throw .journal("cannot lock \(path): it keeps being replaced")
    }

    /// Every entry, oldest first, and how many lines could not be read (a
    /// torn last line after a crash). A missing journal is empty.
    public func read() throws(ActuationError) -> (entries: [JournalEntry], damaged: Int) {
        guard FileManager.default.fileExists(atPath: path) else { return ([], 0) }
        try Self.checkFolder((path as NSString).deletingLastPathComponent)
        guard let text = readText(path) else { throw .journal("cannot read \(path): \(errnoText(errno))") }
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
