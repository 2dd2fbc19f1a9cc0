import Foundation
import Glibc
import NUMAModel
import NUMAProc

/// The journal is compacted when it passes `compactAt` (8 MiB, some
/// thousands of acts), so it never nears the 64 MiB its reader takes
/// (security review 3.7). What is kept: the last line of every act of the
/// last hour (cool-downs and numabalance's own pins are read from them at
/// start; an intent with no outcome still says it was interrupted), and of
/// every older act that `restore` could still undo on a live process, with
/// its restore markers. Moves and finished, undone or moot acts go.
extension Journal {
    public static let compactionBytes = 8 << 20
    public static let keptSeconds = 3600.0

    /// The entries a compaction keeps, in their order.
    public static func compacted(_ entries: [JournalEntry], now: Double,
                                 isLive: (ProcessIdentity) -> Bool) -> [JournalEntry] {
        let undone = Set(entries.compactMap(\.restores))
        var last: [String: Int] = [:]
        for (index, entry) in entries.enumerated() where entry.phase != .restored { last[entry.id] = index }
        var kept = Set<String>()
        for (id, index) in last {
            let entry = entries[index]
            let recent = now - entry.time < keptSeconds
            let undoable = !undone.contains(id) && !(entry.replaced?.isEmpty ?? true)
                && (entry.action?.processes.allSatisfy(isLive) ?? false)
            if recent || undoable { kept.insert(id) }
        }
        return entries.enumerated().compactMap { index, entry in
            if entry.phase == .restored { return kept.contains(entry.restores ?? entry.id) ? entry : nil }
            return last[entry.id] == index && kept.contains(entry.id) ? entry : nil
        }
    }

    /// Rewrites the journal with what `compacted` keeps: a new file beside
    /// it (O_EXCL, never through a link), fsync'd, renamed over it, the
    /// folder fsync'd. `fd` is the journal, opened and locked by the caller.
    func compact(locked fd: Int32, now: Double = Date().timeIntervalSince1970) throws(ActuationError) {
        guard lseek(fd, 0, SEEK_SET) == 0, case .success(let bytes) = FileReader.read(fd: fd) else {
            throw .journal("cannot read \(path) to compact it: \(errnoText(errno))")
        }
        let decoder = JSONDecoder()
        let entries = String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap {
            try? decoder.decode(JournalEntry.self, from: Data($0.utf8))
        }
        let procfs = ProcFS()
        let kept = Self.compacted(entries, now: now) { identity in
            (try? procfs.identity(identity.pid)) == identity
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for entry in kept {
            guard let line = try? encoder.encode(entry) else { continue }
            data.append(line)
            data.append(UInt8(ascii: "\n"))
        }
        let fresh = path + ".compact"
        unlink(fresh)
        let out = open(fresh, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard out >= 0 else { throw .journal("cannot create \(fresh): \(errnoText(errno))") }
        guard Self.writeAll(out, data), fsync(out) == 0 else {
            let code = errno
            close(out)
            unlink(fresh)
            throw .journal("cannot write \(fresh): \(errnoText(code))")
        }
        close(out)
        guard rename(fresh, path) == 0 else {
            let code = errno
            unlink(fresh)
            throw .journal("cannot replace \(path) with its compaction: \(errnoText(code))")
        }
        let folder = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 { fsync(folder); close(folder) }
    }
}
