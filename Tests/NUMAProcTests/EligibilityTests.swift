import NUMAModel
import Testing
@testable import NUMAProc

@Suite struct EligibilityTests {
    func fixtureMaps() throws -> [Mapping] { try Maps.parse(try Fixture.text("proc/123/maps")) }

    @Test func eligibleMappingsOfTheDatabaseFixture() throws {
        let maps = try fixtureMaps()
        let eligible = Set(maps.filter(\.isEligibleForSampling).map(\.start))
        let expected: Set<UInt64> = [
            0x55d0_c910_0000,  // the binary's writable data
            0x55d0_ca00_0000,  // [heap]
            0x7f00_0000_0000,  // /dev/zero (deleted): MAP_SHARED|MAP_ANONYMOUS
            0x7f00_1000_0000,  // SysV segment
            0x7f00_1400_0000,  // /dev/shm
            0x7f00_1410_0000,  // memfd
            0x7f00_1420_0000,  // unnamed anonymous
            0x7f00_1460_1000,  // [anon:jemalloc arena]
            0x7f00_14e0_2000,  // private /dev/zero: anonymous to the kernel
            0x7f00_14e2_2000,  // writable shared file
            0x7f00_151d_5000,  // libc's writable data
            0x7f00_151d_7000,  // libc's bss
            0x7ffd_1a00_0000,  // [stack]
        ]
        #expect(eligible == expected)
    }

    @Test(arguments: [
        ("---p", "", false),                           // PROT_NONE guard
        ("rw-p", "", true),
        ("r--p", "", true),                            // read-only anonymous still has pages
        ("r--p", "/usr/lib/libc.so.6", false),         // read-only file: code and libraries
        ("r-xp", "/usr/lib/libc.so.6", false),
        ("rw-p", "/usr/lib/libc.so.6", true),          // writable private file: COW data
        ("rw-s", "/srv/data.bin", true),
        ("r--s", "/dev/shm/ro", false),
        ("rw-s", "/dev/shm/pool", true),
        ("rw-s", "/dev/zero (deleted)", true),
        ("rw-p", "/dev/zero", true),
        ("rw-s", "/dev/dri/card0", false),
        ("rw-s", "/dev/mem", false),
        ("rw-p", "/anon_hugepage (deleted)", false),
        ("rw-s", "/dev/hugepages/pool", false),
        ("rw-s", "/SYSV00000000 (deleted)", true),
        ("rw-s", "/memfd:x (deleted)", true),
        ("rw-s", "[anon_shmem:pool]", true),
        ("r--p", "[vvar]", false),
        ("r--p", "[vvar_vclock]", false),
        ("r-xp", "[vdso]", false),
        ("--xp", "[vsyscall]", false),
        ("r-xp", "[uprobes]", false),
        ("rw-p", "[heap]", true),
        ("rw-p", "[stack]", true),
    ])
    func eligibility(perms: String, path: String, eligible: Bool) throws {
        let line = "7f0000000000-7f0000100000 \(perms) 00000000 00:01 \(path.isEmpty ? 0 : 77) \(path)"
        let mapping = try #require(try Maps.parse(line).first)
        #expect(mapping.isEligibleForSampling == eligible, "\(perms) \(path)")
    }

    @Test("hugetlb mappings: skipped as the kernel's scanner skips them, sampled when a policy asks")
    func hugetlbWhenAsked() throws {
        for line in ["7f0000000000-7f0040000000 rw-p 00000000 00:0f 1234 /anon_hugepage (deleted)",
                     "7f0000000000-7f0040000000 rw-s 00000000 00:22 99 /dev/hugepages/libvirt/qemu/1-vm/qemu_back_mem"] {
            let mapping = try #require(try Maps.parse(line).first)
            #expect(mapping.isHugeTLB)
            #expect(!mapping.isEligibleForSampling)
            #expect(mapping.isEligible(hugetlb: true), "\(line)")
        }
        #expect(HugePages.parse(meminfo: "MemTotal: 1 kB\nHugepagesize:       2048 kB\n") == 2 << 20)
    }

    @Test func sharedObjectsOnlyForSharedMappings() throws {
        let maps = try fixtureMaps()
        let objects = maps.compactMap(\.sharedObject)
        #expect(objects.map(\.kind) == [.anonShared, .sysvShm, .shmem, .memfd, .sysvShm])
        let sysv = try #require(objects.first { $0.path == "/SYSV0052e2c1 (deleted)" })
        #expect(sysv.inode == 32769 && sysv.device == "00:01" && sysv.bytes == 64 << 20)
        #expect(sysv.key == "sysvShm:00:01:32769")
        // Private mappings, device and ordinary shared files are not shared objects.
        #expect(maps.first { $0.path == "/dev/zero" }?.sharedObject == nil)
        #expect(maps.first { $0.path == "/dev/dri/card0" }?.sharedObjectKind == nil)
        #expect(maps.first { $0.path.hasSuffix("2619 (deleted)") }?.sharedObjectKind == nil)
        #expect(Mapping(start: 0, end: 4096, shared: true, path: "[anon_shmem:pool]").sharedObjectKind == .anonShared)
        #expect(Mapping(start: 0, end: 4096, shared: false, path: "/SYSV00000001 (deleted)").sharedObject == nil)
    }

    @Test func exactPagesCountEligibleMappingsOnly() throws {
        let maps = try fixtureMaps()
        let numa = try NumaMaps.parse(try Fixture.text("proc/123/numa_maps"))
        let pages = exactPagesByNode(maps: maps, numaMaps: numa)
        #expect(pages == [0: 35047, 1: 50869])
    }

    @Test func exactPagesOnTheHost() throws {
        // Captured from one shell: maps and numa_maps describe the same mappings.
        let maps = try Maps.parse(try Fixture.text("host/self-maps"))
        let numa = try NumaMaps.parse(try Fixture.text("host/self-numa_maps"))
        #expect(Set(numa.map(\.start)).isSubset(of: Set(maps.map(\.start))))
        let pages = exactPagesByNode(maps: maps, numaMaps: numa)
        // Counted by hand from the two files: the 10 rw-p mappings (anonymous,
        // heap, stack, writable file data) 9+7+22+2+2+5+1+2+2+4; not the code,
        // the read-only file pages (anon relro ones too), [vvar], [vdso].
        #expect(pages == [0: 56])
    }

    @Test func hugePagesAreCountedInBasePages() {
        // A hugetlbfs file elsewhere than /dev/hugepages looks like a file in
        // maps, so it is eligible; its counts are of 2 MiB pages.
        let maps = [Mapping(start: 0x1000_0000, end: 0x1040_0000, shared: true, inode: 9, path: "/mnt/huge/pool")]
        let numa = [NumaMapsEntry(start: 0x1000_0000, path: "/mnt/huge/pool", isHuge: true,
                                  pagesByNode: [0: 1, 1: 1], kernelPageSizeKB: 2048)]
        #expect(exactPagesByNode(maps: maps, numaMaps: numa) == [0: 512, 1: 512])
        let absurd = [NumaMapsEntry(start: 0x1000_0000, pagesByNode: [0: .max], kernelPageSizeKB: 2048)]
        #expect(exactPagesByNode(maps: maps, numaMaps: absurd) == [0: .max])
    }

    @Test func entriesWithoutAMatchingMappingAreIgnored() {
        let maps = [Mapping(start: 0x1000, end: 0x3000)]
        let numa = [NumaMapsEntry(start: 0x2000, pagesByNode: [0: 1]),
                    NumaMapsEntry(start: 0x1000, pagesByNode: [1: 2])]
        #expect(exactPagesByNode(maps: maps, numaMaps: numa) == [1: 2])
        #expect(exactPagesByNode(maps: [], numaMaps: numa).isEmpty)
    }
}
