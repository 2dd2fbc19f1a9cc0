import Foundation
import NUMAModel
import NUMAProc
import NUMASystem

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
        let bytes: [UInt8]
        switch Self.readAll(fd: fd, name: path) {
        case .success(let read): bytes = read
        case .failure(let error): throw .journal("cannot read \(path) to compact it: \(Errno.text(error.errno))")
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
        _ = FileIO.remove(fresh)
        let out: Int32
        switch FileIO.open(fresh, [.writeOnly, .create, .exclusive, .noFollow], permissions: 0o600) {
        case .success(let opened): out = opened
        case .failure(let error): throw .journal("cannot create \(fresh): \(Errno.text(error.errno))")
        }
        let written = FileIO.writeAll(fd: out, [UInt8](data), name: fresh).flatMap { FileIO.sync(fd: out, name: fresh) }
        FileIO.close(out)
        if case .failure(let error) = written {
            _ = FileIO.remove(fresh)
            throw .journal("cannot write \(fresh): \(Errno.text(error.errno))")
        }
        if case .failure(let error) = FileIO.rename(fresh, to: path) {
            _ = FileIO.remove(fresh)
            throw .journal("cannot replace \(path) with its compaction: \(Errno.text(error.errno))")
        }
        FileIO.syncDirectory(of: path)
    }

    /// The whole of an open file from its start (pread, so the append
    /// offset is left alone), in chunks until the end.
    private static func readAll(fd: Int32, name: String) -> Result<[UInt8], SystemError> {
        var bytes: [UInt8] = []
        while true {
            switch FileIO.read(fd: fd, count: 1 << 20, at: Int64(bytes.count), name: name) {
            case .success(let chunk) where chunk.isEmpty: return .success(bytes)
            case .success(let chunk): bytes += chunk
            case .failure(let error): return .failure(error)
            }
        }
    }
}
