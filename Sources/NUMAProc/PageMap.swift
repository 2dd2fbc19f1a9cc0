// /proc/PID/pagemap's present bit: which pages of a range are in memory at
// all, read in one pass over the page tables. move_pages answers per
// address; a 4 GiB heap with 128 MiB touched is a million queries, of which
// 97 % say "not resident". The present bit needs no privilege beyond
// reading the file (a PFN would need CAP_SYS_ADMIN; it is not used).
import NUMASystem

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
        let path = "\(procRoot)/\(pid)/pagemap"
        guard case .success(let fd) = FileIO.open(path, .noFollow) else { return nil }
        defer { FileIO.close(fd) }
        // `count` entries from page `first`'s on (pread); nil on a short read.
        func entries(from first: UInt64, count: Int) -> [UInt8]? {
            let wanted = count * 8
            guard case .success(let bytes) = FileIO.read(fd: fd, count: wanted, at: Int64(first * 8), name: path),
                  bytes.count == wanted else { return nil }
            return bytes
        }
        var present: [UInt64] = []
        if step > pageSize {
            // A huge page: its first base page's entry speaks for it.
            for address in Swift.stride(from: start, to: end, by: Int(step)) {
                guard let entry = entries(from: address / pageSize, count: 1) else { return nil }
                if Self.entry(entry, 0) & presentBit != 0 { present.append(address) }
            }
            return present
        }
        var page = start / pageSize
        let endPage = (end + pageSize - 1) / pageSize
        while page < endPage {
            let count = Int(min(UInt64(entriesPerRead), endPage - page))
            guard let read = entries(from: page, count: count) else { return nil }
            read.withUnsafeBytes { raw in
                for i in 0..<count where raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) & presentBit != 0 {
                    present.append((page + UInt64(i)) * pageSize)
                }
            }
            page += UInt64(count)
        }
        return present
    }

    /// The `index`th 8-byte entry of `bytes`, in the kernel's (native) byte order.
    static func entry(_ bytes: [UInt8], _ index: Int) -> UInt64 {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self) }
    }
}
