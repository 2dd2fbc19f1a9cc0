// The real view of a shared object (security review 4.5 and 4.6): a file
// named like a SysV segment is refused before anything is opened; a
// map_files entry whose file is not the one sampled is refused; pages of
// an object truncated under us are counted as gone, not a SIGBUS.
import Glibc
@testable import NUMAActuation
import NUMAModel
import NUMAProc
import Testing

@Suite("The shared object view on this host")
struct SharedObjectViewTests {
    let page = UInt64(sysconf(Int32(_SC_PAGESIZE)))

    /// A temporary file of `pages` pages mapped shared and written, and its maps line.
    func fileMapping(pages: Int) throws -> (fd: Int32, base: UnsafeMutableRawPointer, mapping: Mapping) {
        var template = Array("/tmp/nb-view-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        try #require(fd >= 0)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        let length = Int(page) * pages
        try #require(ftruncate(fd, off_t(length)) == 0)
        let base = try #require(mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0))
        try #require(base != MAP_FAILED)
        memset(base, 1, length)
        let start = UInt64(UInt(bitPattern: base))
        let maps = try ProcFS().maps(getpid())
        return (fd, base, try #require(maps.first { $0.start == start }))
    }

    @Test("a file named like a SysV segment on another device is refused before it is opened")
    func forgedRefused() throws {
        let forged = Mapping(start: 0x7f00_0000_0000, end: 0x7f00_0000_4000, shared: true, device: "00:2b",
                             inode: 3, path: "/SYSV0000beef (deleted)")
        let result = LinuxSharedObjectView.open(pid: getpid(), mapping: forged, window: 0..<0x4000, pageSize: page)
        guard case .failure(let error) = result else { Issue.record("opened a forged segment"); return }
        #expect(error.errno == EPERM)
        #expect(error.description.contains("/SYSV0000beef (deleted) is on device 00:2b, not the kernel's shared memory"),
                "\(error)")
    }

    @Test("a map_files entry whose file is not the one sampled is refused (ESTALE)",
          .enabled(if: getuid() == 0, "map_files needs CAP_CHECKPOINT_RESTORE: run as root (Tests/run does)"))
    func replacedMappingRefused() throws {
        let (fd, base, mapping) = try fileMapping(pages: 4)
        defer { munmap(base, Int(page) * 4); close(fd) }
        var other = mapping
        other.inode += 1
        let result = LinuxSharedObjectView.open(pid: getpid(), mapping: other, window: 0..<page, pageSize: page)
        guard case .failure(let error) = result else { Issue.record("opened a file other than the sampled one"); return }
        #expect(error.errno == ESTALE, "\(error)")
        // The sampled file itself opens.
        let view = try LinuxSharedObjectView.open(pid: getpid(), mapping: mapping, window: 0..<page, pageSize: page).get()
        view.close()
    }

    @Test("pages of an object truncated after mincore are counted as gone, with no SIGBUS")
    func truncatedObject() throws {
        let (fd, base, _) = try fileMapping(pages: 8)
        defer { munmap(base, Int(page) * 8); close(fd) }
        // Our own second mapping stands for the daemon's view of the object.
        let length = Int(page) * 8
        let viewBase = try #require(mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0))
        try #require(viewBase != MAP_FAILED)
        defer { munmap(viewBase, length) }
        let view = LinuxSharedObjectView(base: UInt64(UInt(bitPattern: viewBase)), length: UInt64(length),
                                         objectPageOffset: 0, pageSize: page)
        #expect(try view.residentPages().get() == Array(0..<8))
        // A sharer shrinks it to 2 pages between the mincore and the reads.
        try #require(ftruncate(fd, off_t(page) * 2) == 0)
        #expect(view.populate(pages: [0, 1, 4, 5, 6]) == 3)
        #expect(view.populate(pages: [0, 1]) == 0)
    }
}
