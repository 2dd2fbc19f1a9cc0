import Glibc

/// Memory of this process's own, mapped for a look at how the kernel shows
/// it (which device its shared memory lives on) and unmapped again.
public enum MemoryMap {
    /// Maps `length` bytes of shared anonymous memory, read-only (mmap(2)
    /// with MAP_SHARED | MAP_ANONYMOUS, and MAP_HUGETLB when `hugePages`),
    /// runs `body` with the mapping's start address, then unmaps it
    /// (munmap(2)). Nothing is touched, so no page is allocated.
    public static func withSharedAnonymous<T>(length: Int, hugePages: Bool = false,
                                              _ body: (UInt64) -> T) -> Result<T, SystemError> {
        let flags = MAP_SHARED | MAP_ANONYMOUS | (hugePages ? MAP_HUGETLB : 0)
        guard let base = mmap(nil, length, PROT_READ, flags, -1, 0), base != MAP_FAILED else {
            return .failure(.last("mmap of \(length) bytes\(hugePages ? " of huge pages" : "")"))
        }
        defer { munmap(base, length) }
        return .success(body(UInt64(UInt(bitPattern: base))))
    }
}
