/// One line of /proc/pid/maps: a virtual memory area of the process.
public struct Mapping: Hashable, Sendable {
    public var start: UInt64
    public var end: UInt64
    public var readable: Bool
    public var writable: Bool
    public var executable: Bool
    /// "s" in the permissions (MAP_SHARED); "p" is private (copy-on-write).
    public var shared: Bool
    public var offset: UInt64
    /// Major:minor in hex as printed ("fe:00").
    public var device: String
    public var inode: UInt64
    /// "" for anonymous memory. Kept as printed: may contain spaces and end
    /// in " (deleted)"; the kernel prints a newline in a file name as "\012".
    public var path: String

    public init(start: UInt64, end: UInt64, readable: Bool = true, writable: Bool = true,
                executable: Bool = false, shared: Bool = false, offset: UInt64 = 0,
                device: String = "00:00", inode: UInt64 = 0, path: String = "") {
        self.start = start
        self.end = end
        self.readable = readable
        self.writable = writable
        self.executable = executable
        self.shared = shared
        self.offset = offset
        self.device = device
        self.inode = inode
        self.path = path
    }

    public var bytes: UInt64 { end - start }

    /// "rw-p" as printed.
    public var permissions: String {
        (readable ? "r" : "-") + (writable ? "w" : "-") + (executable ? "x" : "-") + (shared ? "s" : "p")
    }

    /// Memory with no file behind it: unnamed, heap, stack, or named with
    /// prctl(PR_SET_VMA_ANON_NAME) ("[anon:name]").
    public var isAnonymous: Bool {
        guard inode == 0 else { return false }
        return path.isEmpty || path == "[heap]" || path == "[stack]"
            || path.hasPrefix("[stack:") || path.hasPrefix("[anon:")
    }

    /// A kernel-provided area that is not the process's memory: [vdso],
    /// [vvar], [vvar_vclock], [vsyscall], [uprobes] and any other bracketed
    /// name that is not heap, stack or named anonymous memory.
    public var isSpecial: Bool {
        guard path.hasPrefix("["), path.hasSuffix("]") else { return false }
        if path == "[heap]" || path == "[stack]" || path.hasPrefix("[stack:") { return false }
        if path.hasPrefix("[anon:") || path.hasPrefix("[anon_shmem:") { return false }
        return true
    }

    public func contains(_ address: UInt64) -> Bool { address >= start && address < end }
}

public enum Maps {
    /// Parses /proc/pid/maps. Empty text (a kernel thread, a zombie) is no
    /// mappings. Each line: "start-end perms offset dev inode [path]".
    ///
    /// In place over the text's bytes, without a copy, an array of lines or
    /// one of fields: a process may have a hundred thousand mappings (an
    /// Elasticsearch, a JVM's thread stacks), and every look reads them all.
    public static func parse(_ text: String, source: String = "maps") throws(ProcParseError) -> [Mapping] {
        var text = text
        let parsed = text.withUTF8 { bytes in Result { () throws(ProcParseError) in try parse(bytes, source: source) } }
        return try parsed.get()
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, source: String) throws(ProcParseError) -> [Mapping] {
        var result: [Mapping] = []
        var start = 0
        var number = 1
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != ProcText.newline { end += 1 }
            var line = MapsLine(bytes: bytes, index: start, end: end)
            if !line.isBlank {
                guard let mapping = line.mapping() else {
                    throw ProcParseError(source: source, line: number,
                                         reason: line.failure ?? "bad line \(ProcText.quoted(line.whole))")
                }
                result.append(mapping)
            }
            number += 1
            start = end + 1
        }
        return result
    }
}

/// One maps line, read field by field from where `index` stands.
private struct MapsLine {
    let bytes: UnsafeBufferPointer<UInt8>
    var index: Int
    let end: Int
    let lineStart: Int
    /// Why `mapping()` gave nil.
    var failure: String?

    init(bytes: UnsafeBufferPointer<UInt8>, index: Int, end: Int) {
        self.bytes = bytes
        self.index = index
        self.end = end
        lineStart = index
    }

    var whole: ArraySlice<UInt8> { ArraySlice(bytes[lineStart..<end]) }
    var isBlank: Bool { (lineStart..<end).allSatisfy { ProcText.isSpace(bytes[$0]) } }

    /// The next field: its bounds, after the spaces before it.
    mutating func field() -> Range<Int>? {
        while index < end, ProcText.isSpace(bytes[index]) { index += 1 }
        guard index < end else { return nil }
        let start = index
        while index < end, !ProcText.isSpace(bytes[index]) { index += 1 }
        return start..<index
    }

    func slice(_ range: Range<Int>) -> ArraySlice<UInt8> { ArraySlice(bytes[range]) }

    func hex(_ range: Range<Int>) -> UInt64? { ProcText.hex(UnsafeBufferPointer(rebasing: bytes[range])) }

    mutating func fail(_ reason: String) -> Mapping? {
        failure = reason
        return nil
    }

    mutating func mapping() -> Mapping? {
        guard let range = field(), let perms = field(), let offsetField = field(), let device = field(),
              let inodeField = field()
        else {
            return fail("expected 5 fields and a path: \(ProcText.quoted(whole))")
        }
        guard let dash = range.first(where: { bytes[$0] == UInt8(ascii: "-") }),
              let start = hex(range.lowerBound..<dash), let stop = hex((dash + 1)..<range.upperBound), start <= stop
        else { return fail("bad address range \(ProcText.quoted(slice(range)))") }
        let p = perms.lowerBound
        guard perms.count == 4,
              bytes[p] == UInt8(ascii: "r") || bytes[p] == UInt8(ascii: "-"),
              bytes[p + 1] == UInt8(ascii: "w") || bytes[p + 1] == UInt8(ascii: "-"),
              bytes[p + 2] == UInt8(ascii: "x") || bytes[p + 2] == UInt8(ascii: "-"),
              bytes[p + 3] == UInt8(ascii: "s") || bytes[p + 3] == UInt8(ascii: "p")
        else { return fail("bad permissions \(ProcText.quoted(slice(perms)))") }
        guard let offset = hex(offsetField) else { return fail("bad offset \(ProcText.quoted(slice(offsetField)))") }
        guard let colon = device.first(where: { bytes[$0] == UInt8(ascii: ":") }),
              hex(device.lowerBound..<colon) != nil, hex((colon + 1)..<device.upperBound) != nil
        else { return fail("bad device \(ProcText.quoted(slice(device)))") }
        guard let inode = ProcText.decimal(slice(inodeField)) else {
            return fail("bad inode \(ProcText.quoted(slice(inodeField)))")
        }
        while index < end, ProcText.isSpace(bytes[index]) { index += 1 }
        let path = index < end ? String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self) : ""
        return Mapping(
            start: start, end: stop,
            readable: bytes[p] == UInt8(ascii: "r"), writable: bytes[p + 1] == UInt8(ascii: "w"),
            executable: bytes[p + 2] == UInt8(ascii: "x"), shared: bytes[p + 3] == UInt8(ascii: "s"),
            offset: offset, device: String(decoding: UnsafeBufferPointer(rebasing: bytes[device]), as: UTF8.self),
            inode: inode, path: path)
    }
}
