import NUMAModel

/// One line of /proc/pid/numa_maps: a mapping's policy and its resident pages per node.
public struct NumaMapsEntry: Hashable, Sendable {
    /// The mapping's start address: the same as its line in maps.
    public var start: UInt64
    /// As printed: "default", "bind:1", "interleave:0-1", "prefer:0",
    /// "prefer (many):0-1", "bind=static:0-1", "weighted interleave:0-3".
    public var policy: String
    /// file=…, with the kernel's \075 (=) and \011 (tab) escapes undone and
    /// \012 (newline) kept as maps prints it.
    public var path: String?
    public var isHeap: Bool
    public var isStack: Bool
    /// hugetlb: counts are of huge pages of `kernelPageSizeKB`.
    public var isHuge: Bool
    public var anonPages: UInt64?
    public var dirtyPages: UInt64?
    public var mappedPages: UInt64?
    /// N<node>= counts, in pages of `kernelPageSizeKB`. Empty when nothing is resident.
    public var pagesByNode: [NodeID: UInt64]
    /// kernelpagesize_kB; 4 when the line has none (nothing resident).
    public var kernelPageSizeKB: UInt64

    public init(start: UInt64, policy: String = "default", path: String? = nil, isHeap: Bool = false,
                isStack: Bool = false, isHuge: Bool = false, anonPages: UInt64? = nil,
                dirtyPages: UInt64? = nil, mappedPages: UInt64? = nil,
                pagesByNode: [NodeID: UInt64] = [:], kernelPageSizeKB: UInt64 = 4) {
        self.start = start
        self.policy = policy
        self.path = path
        self.isHeap = isHeap
        self.isStack = isStack
        self.isHuge = isHuge
        self.anonPages = anonPages
        self.dirtyPages = dirtyPages
        self.mappedPages = mappedPages
        self.pagesByNode = pagesByNode
        self.kernelPageSizeKB = kernelPageSizeKB
    }

    /// Resident pages on all nodes, in pages of `kernelPageSizeKB`.
    public var residentPages: UInt64 { pagesByNode.values.reduce(0) { $0 &+ $1 } }
}

public enum NumaMaps {
    /// Keys the kernel's show_numa_map prints as key=value after the policy.
    static let knownKeys: [[UInt8]] = [
        "anon", "dirty", "mapped", "mapmax", "swapcache", "active", "writeback", "kernelpagesize_kB",
    ].map { Array($0.utf8) }
    /// Above any real count (2^52 pages = 16 EiB of 4 KiB pages): garbage.
    static let maxCount: UInt64 = 1 << 52

    /// Parses numa_maps: "start policy [file=path|heap|stack] [huge] key=value… N<n>=count…".
    /// Empty text (a kernel thread) is no entries.
    public static func parse(_ text: String, source: String = "numa_maps") throws(ProcParseError) -> [NumaMapsEntry] {
        var result: [NumaMapsEntry] = []
        for line in ProcText.lines(text, source: source) where !line.isBlank {
            result.append(try parseLine(line))
        }
        return result
    }

    /// A token that ends the policy: an attribute the kernel prints after it.
    static func isAttribute(_ token: ArraySlice<UInt8>) -> Bool {
        if ProcText.equals(token, "heap") || ProcText.equals(token, "stack") || ProcText.equals(token, "huge") {
            return true
        }
        if ProcText.hasPrefix(token, "file=") { return true }
        return isKeyValue(token)
    }

    static func isKeyValue(_ token: ArraySlice<UInt8>) -> Bool {
        guard let eq = token.firstIndex(of: UInt8(ascii: "=")) else { return false }
        let key = token[token.startIndex..<eq]
        if key.count >= 2, key.first == UInt8(ascii: "N"), ProcText.decimal(key.dropFirst()) != nil { return true }
        return knownKeys.contains { key.elementsEqual($0) }
    }

    static func parseLine(_ line: ProcLine) throws(ProcParseError) -> NumaMapsEntry {
        let tokens = line.fields
        guard tokens.count >= 2, let start = ProcText.hex(tokens[0]) else {
            throw line.fail("expected \"address policy …\", got \(ProcText.quoted(line.bytes))")
        }
        // The policy may hold a space ("prefer (many)", "weighted interleave").
        var index = 2
        while index < tokens.count, !isAttribute(tokens[index]) { index += 1 }
        let policy = ProcText.string(line.bytes[tokens[1].startIndex..<tokens[index - 1].endIndex])
        var entry = NumaMapsEntry(start: start, policy: policy)

        if index < tokens.count, ProcText.hasPrefix(tokens[index], "file=") {
            // '=' is escaped in the path, so it runs to the first key=value token;
            // a bare "huge" just before that is the hugetlb flag.
            var last = index
            while last + 1 < tokens.count, !isKeyValue(tokens[last + 1]) { last += 1 }
            if last > index, ProcText.equals(tokens[last], "huge") {
                entry.isHuge = true
                last -= 1
            }
            let pathBytes = line.bytes[(tokens[index].startIndex + 5)..<tokens[last].endIndex]
            entry.path = unescapePath(pathBytes)
            index = last + (entry.isHuge ? 2 : 1)
        }
        while index < tokens.count {
            try apply(tokens[index], to: &entry, line: line)
            index += 1
        }
        return entry
    }

    static func apply(_ token: ArraySlice<UInt8>, to entry: inout NumaMapsEntry, line: ProcLine) throws(ProcParseError) {
        if ProcText.equals(token, "heap") { entry.isHeap = true; return }
        if ProcText.equals(token, "stack") { entry.isStack = true; return }
        if ProcText.equals(token, "huge") { entry.isHuge = true; return }
        guard let eq = token.firstIndex(of: UInt8(ascii: "=")) else {
            // A bare word a newer kernel may print is tolerated; anything else is garbage.
            guard token.allSatisfy({ (97...122).contains($0) || $0 == UInt8(ascii: "_") }) else {
                throw line.fail("unexpected \(ProcText.quoted(token))")
            }
            return
        }
        let key = token[token.startIndex..<eq]
        let valueBytes = token[(eq + 1)...]
        guard let value = ProcText.decimal(valueBytes), value <= maxCount else {
            throw line.fail("bad value in \(ProcText.quoted(token))")
        }
        if key.first == UInt8(ascii: "N"), let node = ProcText.decimal(key.dropFirst()) {
            guard node < 1 << 16 else { throw line.fail("absurd node in \(ProcText.quoted(token))") }
            entry.pagesByNode[NodeID(Int(node)), default: 0] += value
            return
        }
        // mapmax, swapcache, active, writeback and keys of newer kernels are not needed.
        if ProcText.equals(key, "anon") {
            entry.anonPages = value
        } else if ProcText.equals(key, "dirty") {
            entry.dirtyPages = value
        } else if ProcText.equals(key, "mapped") {
            entry.mappedPages = value
        } else if ProcText.equals(key, "kernelpagesize_kB") {
            guard value >= 1 else { throw line.fail("bad page size \(ProcText.quoted(token))") }
            entry.kernelPageSizeKB = value
        }
    }

    /// Undoes seq_file_path's octal escapes for '=' and tab; "\012" is kept
    /// because maps prints a newline the same way, so paths compare equal.
    static func unescapePath(_ bytes: ArraySlice<UInt8>) -> String {
        var text = ProcText.string(bytes)
        if text.contains("\\") {
            text = text.replacingOccurrences("\\075", with: "=").replacingOccurrences("\\011", with: "\t")
        }
        return text
    }
}

extension String {
    /// Plain substring replacement without Foundation.
    func replacingOccurrences(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
