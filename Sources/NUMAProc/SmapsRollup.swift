/// /proc/pid/smaps_rollup: the process's smaps summed over its mappings, in bytes.
public struct SmapsRollup: Hashable, Sendable {
    public var rssBytes: UInt64
    public var pssBytes: UInt64
    public var anonymousBytes: UInt64
    /// Transparent huge pages mapped by PMD: reported beside the page estimate.
    public var anonHugePagesBytes: UInt64
    public var shmemPmdMappedBytes: UInt64
    public var swapBytes: UInt64

    public init(rssBytes: UInt64 = 0, pssBytes: UInt64 = 0, anonymousBytes: UInt64 = 0,
                anonHugePagesBytes: UInt64 = 0, shmemPmdMappedBytes: UInt64 = 0, swapBytes: UInt64 = 0) {
        self.rssBytes = rssBytes
        self.pssBytes = pssBytes
        self.anonymousBytes = anonymousBytes
        self.anonHugePagesBytes = anonHugePagesBytes
        self.shmemPmdMappedBytes = shmemPmdMappedBytes
        self.swapBytes = swapBytes
    }
}

public enum SmapsRollupParser {
    /// Parses smaps_rollup: a header line ("start-end ---p … [rollup]") then
    /// "Key:   N kB" lines. Rss and Pss must be there; the others default to 0
    /// (older kernels lack some). A kernel thread's smaps_rollup fails to
    /// open (ESRCH), so empty text is an error here.
    public static func parse(_ text: String, source: String = "smaps_rollup") throws(ProcParseError) -> SmapsRollup {
        var result = SmapsRollup()
        var seenRss = false
        var seenPss = false
        var sawAny = false
        for line in ProcText.lines(text, source: source) where !line.isBlank {
            if line.number == 1, isHeader(line) { continue }
            guard let (key, value) = line.split(at: UInt8(ascii: ":")), !key.isEmpty,
                  key.allSatisfy({ $0 > 0x20 && $0 < 0x7f })
            else { throw line.fail("expected \"Key: N kB\", got \(ProcText.quoted(line.bytes))") }
            sawAny = true
            let name = ProcText.string(key)
            guard let slot = keyPath(for: name) else { continue }
            guard let bytes = ProcText.kilobytes(value) else {
                throw line.fail("bad \(name) \(ProcText.quoted(value))")
            }
            result[keyPath: slot] = bytes
            if name == "Rss" { seenRss = true }
            if name == "Pss" { seenPss = true }
        }
        guard sawAny else { throw ProcParseError(source: source, line: nil, reason: "empty") }
        guard seenRss, seenPss else {
            throw ProcParseError(source: source, line: nil, reason: "no Rss or Pss line (truncated?)")
        }
        return result
    }

    /// The first line repeats a maps line covering the whole address space.
    static func isHeader(_ line: ProcLine) -> Bool {
        guard let first = line.fields.first, let dash = first.firstIndex(of: UInt8(ascii: "-")) else {
            return false
        }
        return ProcText.hex(first[first.startIndex..<dash]) != nil && ProcText.hex(first[(dash + 1)...]) != nil
    }

    static func keyPath(for key: String) -> WritableKeyPath<SmapsRollup, UInt64>? {
        switch key {
        case "Rss": return \.rssBytes
        case "Pss": return \.pssBytes
        case "Anonymous": return \.anonymousBytes
        case "AnonHugePages": return \.anonHugePagesBytes
        case "ShmemPmdMapped": return \.shmemPmdMappedBytes
        case "Swap": return \.swapBytes
        default: return nil
        }
    }
}
