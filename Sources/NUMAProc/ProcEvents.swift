/// The kernel's process events (the proc connector, linux/cn_proc.h), read
/// from the netlink datagrams it multicasts: a process forked, exec'd or
/// exited. Only what discovery needs is kept; the rest is `.other`.
public enum ProcEvent: Hashable, Sendable {
    /// A new process (not a thread: its pid is its tgid).
    case fork(parent: Int32, child: Int32)
    /// A new thread of a process.
    case thread(process: Int32, thread: Int32)
    /// The process replaced its program.
    case exec(process: Int32)
    /// A task ended: the process itself when `thread == process`.
    case exit(process: Int32, thread: Int32)
    case other(what: UInt32)
}

/// Parsing of one proc connector datagram (pure: bytes in, events out).
///
/// Layout, in the host's byte order: `nlmsghdr` (16 bytes: len, type,
/// flags, seq, pid), `cn_msg` (20 bytes: idx, val, seq, ack, len, flags),
/// then `proc_event`: what, cpu, timestamp_ns (u64 at offset 8), and its
/// data from offset 16.
public enum ProcEvents {
    static let netlinkHeader = 16
    static let connectorHeader = 20
    /// `proc_event`'s data starts after what, cpu and the timestamp.
    static let dataOffset = 16
    /// CN_IDX_PROC, CN_VAL_PROC: the proc connector's id.
    public static let connectorIndex: UInt32 = 1
    public static let connectorValue: UInt32 = 1

    enum What: UInt32 {
        case fork = 1, exec = 2, exit = 0x8000_0000
    }

    /// The events of one datagram; none for a message that is not the proc
    /// connector's, or is cut short (never a read past its end).
    public static func parse(_ bytes: [UInt8]) -> [ProcEvent] {
        var events: [ProcEvent] = []
        var offset = 0
        // A datagram may hold several netlink messages, each 4-byte aligned.
        while offset + netlinkHeader <= bytes.count {
            guard let length = u32(bytes, offset), length >= UInt32(netlinkHeader),
                  offset + Int(length) <= bytes.count else { break }
            if let event = event(bytes, message: offset, length: Int(length)) { events.append(event) }
            offset += (Int(length) + 3) & ~3
        }
        return events
    }

    private static func event(_ bytes: [UInt8], message start: Int, length: Int) -> ProcEvent? {
        let connector = start + netlinkHeader
        let event = connector + connectorHeader
        let end = start + length
        guard event + dataOffset <= end,
              u32(bytes, connector) == connectorIndex, u32(bytes, connector + 4) == connectorValue,
              let what = u32(bytes, event) else { return nil }
        let data = event + dataOffset
        func field(_ index: Int) -> Int32? {
            guard data + 4 * (index + 1) <= end, let value = u32(bytes, data + 4 * index) else { return nil }
            return Int32(bitPattern: value)
        }
        switch What(rawValue: what) {
        case .fork:
            guard let parent = field(1), let pid = field(2), let tgid = field(3) else { return nil }
            return pid == tgid ? .fork(parent: parent, child: tgid) : .thread(process: tgid, thread: pid)
        case .exec:
            guard let tgid = field(1) else { return nil }
            return .exec(process: tgid)
        case .exit:
            guard let pid = field(0), let tgid = field(1) else { return nil }
            return .exit(process: tgid, thread: pid)
        case nil:
            return .other(what: what)
        }
    }

    /// A 32-bit field in the host's order (netlink's), unaligned.
    static func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32? {
        guard offset >= 0, offset + 4 <= bytes.count else { return nil }
        return bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
    }
}
