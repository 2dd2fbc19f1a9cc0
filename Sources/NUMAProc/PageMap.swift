// /proc/PID/pagemap's present bit: which pages of a range are in memory at
// all, read in one pass over the page tables. move_pages answers per
// address; a 4 GiB heap with 128 MiB touched is a million queries, of which
// 97 % say "not resident". The present bit needs no privilege beyond
// reading the file (a PFN would need CAP_SYS_ADMIN; it is not used).
import Glibc

public enum PageMap {
    /// Bit 63 of an entry: the page is present in RAM.
    static let presentBit: UInt64 = 1 << 63
    /// Entries read per pread: 512 KiB of entries, 256 MiB of address space.
    static let entriesPerRead = 65_536

    /// The addresses `start, start + step, …` below `end` whose page is
    /// present, or nil when pagemap cannot be read (then every address must
    /// be asked). `step` is the page size, or a huge page's size for a
    /// hugetlb range (pagemap has an entry per base page either way).
    public static func presentPages(procRoot: String = "/proc", pid: Int32, start: UInt64, end: UInt64,
                                    pageSize: UInt64, step: UInt64) -> [UInt64]? {
        guard pageSize > 0, step >= pageSize, step % pageSize == 0, end > start else { return [] }
        let fd = open("\(procRoot)/\(pid)/pagemap", O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var present: [UInt64] = []
        if step > pageSize {
            // A huge page: its first base page's entry speaks for it.
            var entry: UInt64 = 0
            for address in Swift.stride(from: start, to: end, by: Int(step)) {
                let got = withUnsafeMutableBytes(of: &entry) { pread(fd, $0.baseAddress, 8, off_t(address / pageSize * 8)) }
                guard got == 8 else { return nil }
                if entry & presentBit != 0 { present.append(address) }
            }
            return present
        }
        var entries = [UInt64](repeating: 0, count: entriesPerRead)
        var page = start / pageSize
        let endPage = (end + pageSize - 1) / pageSize
        while page < endPage {
            let count = Int(min(UInt64(entriesPerRead), endPage - page))
            let wanted = count * 8
            let got = entries.withUnsafeMutableBytes { pread(fd, $0.baseAddress, wanted, off_t(page * 8)) }
            guard got == wanted else { return nil }
            for i in 0..<count where entries[i] & presentBit != 0 { present.append((page + UInt64(i)) * pageSize) }
            page += UInt64(count)
        }
        return present
    }
}
