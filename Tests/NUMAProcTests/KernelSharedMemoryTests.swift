// What tells a real SysV segment from a file named like one (security
// review 4.5): the device maps shows, checked against the kernel's own
// shared-memory mount as found from a mapping of ours.
import Glibc
import NUMAModel
@testable import NUMAProc
import Testing

@Suite("Kernel shared memory: real SysV segments and forgeries")
struct KernelSharedMemoryTests {
    static let shm: Set<DeviceNumber> = [DeviceNumber(major: 0, minor: 1)]

    func mapping(_ path: String, device: String, shared: Bool = true) -> Mapping {
        Mapping(start: 0x7f00_0000_0000, end: 0x7f00_0010_0000, shared: shared, device: device, inode: 32769, path: path)
    }

    @Test("a segment on the kernel's shmem device, named as the kernel names it, is genuine")
    func genuine() {
        #expect(KernelSharedMemory.forgery(mapping("/SYSV0052e2c1 (deleted)", device: "00:01"), devices: Self.shm) == nil)
    }

    @Test("a /SYSV file on another device is a forgery, named with both devices")
    func otherDevice() throws {
        let why = try #require(KernelSharedMemory.forgery(mapping("/SYSV0000beef (deleted)", device: "00:2b"),
                                                          devices: Self.shm))
        #expect(why == "/SYSV0000beef (deleted) is on device 00:2b, not the kernel's shared memory (00:01): "
            + "a file named like a SysV segment")
    }

    @Test("on the right device, a name the kernel never gives is a forgery too", arguments: [
        "/SYSV0000beef", "/SYSVbeef (deleted)", "/SYSV0000beeg (deleted)", "/SYSV0000beef (deleted) x",
    ])
    func badName(path: String) {
        #expect(KernelSharedMemory.forgery(mapping(path, device: "00:01"), devices: Self.shm) != nil, "\(path)")
    }

    @Test("mappings that make no SysV claim are never called forgeries")
    func noClaim() {
        #expect(KernelSharedMemory.forgery(mapping("/dev/shm/pool", device: "00:1a"), devices: Self.shm) == nil)
        #expect(KernelSharedMemory.forgery(mapping("/SYSV0000beef (deleted)", device: "00:2b", shared: false),
                                           devices: Self.shm) == nil)
    }

    @Test("a real SysV segment of this process, as maps shows it, is genuine by the probed devices")
    func realSegmentIsGenuine() throws {
        let id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600)
        try #require(id >= 0, "shmget: errno \(errno)")
        defer { shmctl(id, IPC_RMID, nil) }
        let address = try #require(shmat(id, nil, 0))
        try #require(address != UnsafeMutableRawPointer(bitPattern: -1))
        defer { shmdt(address) }
        let start = UInt64(UInt(bitPattern: address))
        let segment = try #require(try ProcFS().maps(getpid()).first { $0.start == start })
        #expect(segment.sharedObjectKind == .sysvShm, "\(segment.path)")
        #expect(KernelSharedMemory.forgery(segment) == nil, "\(segment.device) \(segment.path); probed \(KernelSharedMemory.devices)")
    }

    @Test("device numbers: maps' hex text and stat's st_dev agree")
    func deviceNumbers() throws {
        #expect(DeviceNumber("00:01") == DeviceNumber(major: 0, minor: 1))
        #expect(DeviceNumber("fd:1a")?.description == "fd:1a")
        #expect(DeviceNumber("103:0")?.description == "103:00")
        #expect(DeviceNumber("x") == nil && DeviceNumber("1:2:3") == nil && DeviceNumber(":1") == nil)
        // 259:65537 as glibc's makedev encodes it.
        let dev: UInt64 = (UInt64(259 & 0xfff) << 8) | UInt64(65537 & 0xff) | (UInt64(65537 & ~0xff) << 12)
        #expect(DeviceNumber(statDevice: dev) == DeviceNumber(major: 259, minor: 65537))
    }
}
