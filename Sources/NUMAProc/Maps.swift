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
    public static func parse(_ text: String, source: String = "maps") throws(ProcParseError) -> [Mapping] {
        var result: [Mapping] = []
        for line in ProcText.lines(text, source: source) where !line.isBlank {
            result.append(try parseLine(line))
        }
        return result
    }

    static func parseLine(_ line: ProcLine) throws(ProcParseError) -> Mapping {
        // The five fixed fields, then the path after the padding.
        var fields: [ArraySlice<UInt8>] = []
        var index = line.bytes.startIndex
        let bytes = line.bytes
        while fields.count < 5 {
            while index < bytes.endIndex, ProcText.isSpace(bytes[index]) { index += 1 }
            guard index < bytes.endIndex else { break }
            let start = index
            while index < bytes.endIndex, !ProcText.isSpace(bytes[index]) { index += 1 }
            fields.append(bytes[start..<index])
        }
        guard fields.count == 5 else {
            throw line.fail("expected 5 fields and a path, got \(fields.count): \(ProcText.quoted(bytes))")
        }
        while index < bytes.endIndex, ProcText.isSpace(bytes[index]) { index += 1 }
        let path = ProcText.string(bytes[index...])

        let range = fields[0]
        guard let dash = range.firstIndex(of: UInt8(ascii: "-")),
              let start = ProcText.hex(range[range.startIndex..<dash]),
              let end = ProcText.hex(range[(dash + 1)...]), start <= end
        else { throw line.fail("bad address range \(ProcText.quoted(range))") }

        let perms = Array(fields[1])
        guard perms.count == 4,
              perms[0] == UInt8(ascii: "r") || perms[0] == UInt8(ascii: "-"),
              perms[1] == UInt8(ascii: "w") || perms[1] == UInt8(ascii: "-"),
              perms[2] == UInt8(ascii: "x") || perms[2] == UInt8(ascii: "-"),
              perms[3] == UInt8(ascii: "s") || perms[3] == UInt8(ascii: "p")
        else { throw line.fail("bad permissions \(ProcText.quoted(fields[1]))") }

        guard let offset = ProcText.hex(fields[2]) else {
            throw line.fail("bad offset \(ProcText.quoted(fields[2]))")
        }
        let device = fields[3]
        guard let colon = device.firstIndex(of: UInt8(ascii: ":")),
              ProcText.hex(device[device.startIndex..<colon]) != nil,
              ProcText.hex(device[(colon + 1)...]) != nil
        else { throw line.fail("bad device \(ProcText.quoted(device))") }
        guard let inode = ProcText.decimal(fields[4]) else {
            throw line.fail("bad inode \(ProcText.quoted(fields[4]))")
        }
        return Mapping(
            start: start, end: end,
            readable: perms[0] == UInt8(ascii: "r"), writable: perms[1] == UInt8(ascii: "w"),
            executable: perms[2] == UInt8(ascii: "x"), shared: perms[3] == UInt8(ascii: "s"),
            offset: offset, device: ProcText.string(device), inode: inode, path: path)
    }
}
