import Testing
@testable import NUMAProc

/// Datagrams of the proc connector built field by field as the kernel lays
/// them out (cn_proc.h): nlmsghdr, cn_msg, proc_event.
@Suite("Process events from the proc connector")
struct ProcEventsTests {
    static func u32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v) { Array($0) } }
    static func u16(_ v: UInt16) -> [UInt8] { withUnsafeBytes(of: v) { Array($0) } }

    /// One netlink message carrying one proc_event of `what` with `data` (u32 fields).
    static func message(what: UInt32, data: [UInt32], index: UInt32 = 1, value: UInt32 = 1) -> [UInt8] {
        let event = u32(what) + u32(0) + withUnsafeBytes(of: UInt64(123_456_789)) { Array($0) }
            + data.flatMap(u32)
        let connector = u32(index) + u32(value) + u32(0) + u32(0) + u16(UInt16(event.count)) + u16(0)
        let length = 16 + connector.count + event.count
        var bytes = u32(UInt32(length)) + u16(3) + u16(0) + u32(0) + u32(0) + connector + event
        while bytes.count % 4 != 0 { bytes.append(0) }
        return bytes
    }

    @Test("fork of a process, fork of a thread, exec and exit, each read from its fields")
    func events() {
        #expect(ProcEvents.parse(Self.message(what: 1, data: [100, 100, 200, 200])) == [.fork(parent: 100, child: 200)])
        #expect(ProcEvents.parse(Self.message(what: 1, data: [200, 200, 201, 200])) == [.thread(process: 200, thread: 201)])
        #expect(ProcEvents.parse(Self.message(what: 2, data: [200, 200])) == [.exec(process: 200)])
        #expect(ProcEvents.parse(Self.message(what: 0x8000_0000, data: [201, 200, 0, 17, 100, 100]))
            == [.exit(process: 200, thread: 201)])
        #expect(ProcEvents.parse(Self.message(what: 0x200, data: [200, 200, 0, 0, 0, 0])) == [.other(what: 0x200)])
    }

    @Test("several messages in one datagram are all read, in order")
    func several() {
        let bytes = Self.message(what: 1, data: [1, 1, 50, 50]) + Self.message(what: 2, data: [50, 50])
        #expect(ProcEvents.parse(bytes) == [.fork(parent: 1, child: 50), .exec(process: 50)])
    }

    @Test("cut short, another connector's message, a length past the end: no event, no read past the end")
    func hostile() {
        let fork = Self.message(what: 1, data: [1, 1, 50, 50])
        for cut in 0..<fork.count { #expect(ProcEvents.parse(Array(fork.prefix(cut))).isEmpty, "cut at \(cut)") }
        #expect(ProcEvents.parse(Self.message(what: 1, data: [1, 1, 50, 50], index: 2)).isEmpty)
        var lying = fork
        lying.replaceSubrange(0..<4, with: Self.u32(4096))
        #expect(ProcEvents.parse(lying).isEmpty)
        var tooShort = fork
        tooShort.replaceSubrange(0..<4, with: Self.u32(8))
        #expect(ProcEvents.parse(tooShort).isEmpty)
    }
}
