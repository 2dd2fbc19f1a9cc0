import Glibc

/// What the soft-dirty tier needs beyond files: a page of our own, just
/// written, to ask pagemap whether this kernel tracks soft-dirty bits at all
/// (CONFIG_MEM_SOFT_DIRTY); clear_refs and pagemap themselves are FileIO.
public enum SoftDirtyPages {
    /// Maps one private anonymous page (mmap(2)), writes a byte to it, runs
    /// `body` with its address and size, and unmaps it (munmap(2)); nil when
    /// the page cannot be mapped.
    public static func withWrittenPage<T>(_ body: (_ address: UInt64, _ size: Int) -> T) -> T? {
        let size = 4096
        guard let page = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              page != MAP_FAILED else { return nil }
        defer { munmap(page, size) }
        page.storeBytes(of: 1, as: UInt8.self)
        return body(UInt64(UInt(bitPattern: page)), size)
    }
}
