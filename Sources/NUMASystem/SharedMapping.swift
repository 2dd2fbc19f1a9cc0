import CLinux

/// numabalance's own read-only, shared mapping of (a window of) a file or
/// shared object: to read which of its pages are resident and to fault
/// them into our page tables, so a policy change on the object reaches them.
/// Addresses are plain integers: the mapping is never dereferenced in Swift.
public enum SharedMapping {
    /// mmap(2) of `length` bytes of `fd` from `offset`, MAP_SHARED and
    /// PROT_READ (the shim clinux_map_shared_readonly). Returns the address.
    public static func mapReadOnly(fd: Int32, length: UInt64, offset: UInt64, name: String = "a file")
        -> Result<UInt64, SystemError>
    {
        var address: UnsafeMutableRawPointer?
        return Syscall.check("mmap of \(name)") {
            clinux_map_shared_readonly(fd, Int(length), off_t(offset), &address)
        }.map { UInt64(UInt(bitPattern: address)) }
    }

    /// munmap(2); its error is not reported (nothing is left to undo).
    public static func unmap(address: UInt64, length: UInt64) {
        _ = clinux_unmap(UnsafeMutableRawPointer(bitPattern: UInt(address)), Int(length))
    }

    /// mincore(2): the indexes of the resident pages of [address, address+length).
    public static func residentPages(address: UInt64, length: UInt64, pageSize: UInt64,
                                     operation: @autoclosure () -> String = "mincore")
        -> Result<[Int], SystemError>
    {
        let pages = Int((length + pageSize - 1) / pageSize)
        var vector = [UInt8](repeating: 0, count: pages)
        return Syscall.check(operation()) {
            vector.withUnsafeMutableBufferPointer { out in
                clinux_mincore(UnsafeMutableRawPointer(bitPattern: UInt(address)), Int(length), out.baseAddress)
            }
        }.map { vector.indices.filter { vector[$0] & 1 != 0 } }
    }

    /// Faults [address, address+length) into the caller's page tables as a
    /// read would (clinux_populate_read: madvise MADV_POPULATE_READ, or a
    /// read of each page with SIGBUS caught). Fails with EFAULT, never a
    /// SIGBUS, when part of the range is past the end of its file.
    public static func populateRead(address: UInt64, length: UInt64, pageSize: UInt64) -> Result<Void, SystemError> {
        Syscall.check("populate of \(length) bytes at 0x\(String(address, radix: 16))") {
            clinux_populate_read(UnsafeRawPointer(bitPattern: UInt(address)), Int(length), Int(pageSize))
        }
    }
}
