import NUMAModel
import NUMASystem

/// The kernel's own shared-memory mounts, where its SysV segments live.
///
/// maps names a SysV segment "/SYSV<key in 8 hex digits> (deleted)", but
/// anyone can name a file so: a tmpfs mounted in a mount namespace, or
/// lazily unmounted, shows its files as "/SYSV…" from the root's view
/// (security review 4.5). The name is the process's; the device is the
/// kernel's: a real segment's file lives on the internal shmem mount (the
/// one shared anonymous memory and memfds use) or, with SHM_HUGETLB, on
/// the internal hugetlbfs mount. Both are found once, from mappings of our own.
public enum KernelSharedMemory {
    /// The devices of the internal shmem and hugetlbfs mounts, as maps prints
    /// them, each present when this process could map memory there.
    public static let devices: Set<DeviceNumber> = probe()

    /// Why a mapping that calls itself a SysV segment is not one, or nil
    /// (a genuine segment, or a mapping that makes no such claim).
    public static func forgery(_ mapping: Mapping, devices: Set<DeviceNumber> = devices) -> String? {
        guard mapping.sharedObjectKind == .sysvShm else { return nil }
        guard let device = DeviceNumber(mapping.device) else {
            return "\(mapping.path) has an unreadable device \(mapping.device)"
        }
        guard devices.contains(device) else {
            let known = devices.map(\.description).sorted().joined(separator: ", ")
            return "\(mapping.path) is on device \(device), not the kernel's shared memory "
                + "(\(known.isEmpty ? "unknown" : known)): a file named like a SysV segment"
        }
        let name = mapping.path.dropFirst("/SYSV".count)
        guard name.count == 8 + " (deleted)".count, name.hasSuffix(" (deleted)"),
              name.prefix(8).allSatisfy(\.isHexDigit)
        else { return "\(mapping.path) is not named /SYSV<8 hex digits> (deleted) as the kernel names segments" }
        return nil
    }

    /// Maps one page of shared anonymous memory (shmem) and, where huge pages
    /// can be had, one of shared hugetlb memory, and reads their devices from
    /// our own maps.
    static func probe() -> Set<DeviceNumber> {
        var found = Set<DeviceNumber>()
        for (hugePages, length) in [(false, Host.pageSize), (true, Int(HugePages.defaultBytes))] where length > 0 {
            let device = MemoryMap.withSharedAnonymous(length: length, hugePages: hugePages) { start -> DeviceNumber? in
                guard case .success(let bytes) = FileIO.read("/proc/self/maps"),
                      let maps = try? Maps.parse(String(decoding: bytes, as: UTF8.self)),
                      let ours = maps.first(where: { $0.start == start })
                else { return nil }
                return DeviceNumber(ours.device)
            }
            if case .success(let device?) = device { found.insert(device) }
        }
        return found
    }
}

/// A device number as maps prints it ("00:01", major:minor in hex).
public struct DeviceNumber: Hashable, Sendable, CustomStringConvertible {
    public var major: UInt32
    public var minor: UInt32

    public init(major: UInt32, minor: UInt32) {
        self.major = major
        self.minor = minor
    }

    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let major = UInt32(parts[0], radix: 16), let minor = UInt32(parts[1], radix: 16)
        else { return nil }
        self.init(major: major, minor: minor)
    }

    /// From stat's st_dev (glibc's encoding of major and minor).
    public init(statDevice dev: UInt64) {
        self.init(major: UInt32(truncatingIfNeeded: ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfff)),
                  minor: UInt32(truncatingIfNeeded: (dev & 0xff) | ((dev >> 12) & ~0xff)))
    }

    public var description: String {
        let hex = { (n: UInt32) in String(repeating: "0", count: max(0, 2 - String(n, radix: 16).count)) + String(n, radix: 16) }
        return hex(major) + ":" + hex(minor)
    }
}
