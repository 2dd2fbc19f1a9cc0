// numa-workload's own promises, checked in a guest.
import Testing

extension LabTests {
    @Suite("numa-workload in 4x1")
    struct WorkloadChecks {
        @Test("shm-group: members share their group's segment, marked for removal, and nothing is left after")
        func shmGroupLeavesNothingBehind() async throws {
            let run = try await LabRuns.shared.completedRun("4x1")
            let ready = try run.text("shm-group.log").split(separator: "\n").filter { $0.hasPrefix("ready ") }
            #expect(ready.count == 4, "ready lines: \(ready)")
            var segmentOfGroup: [String: Set<String>] = [:]
            for line in ready {
                let fields = Dictionary(line.split(separator: " ").compactMap { field -> (String, String)? in
                    let parts = field.split(separator: "=", maxSplits: 1)
                    return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
                }, uniquingKeysWith: { first, _ in first })
                let group = try #require(fields["group"], "no group= in \(line)")
                let shmid = try #require(fields["shmid"], "no shmid= in \(line)")
                segmentOfGroup[group, default: []].insert(shmid)
            }
            #expect(segmentOfGroup.count == 2 && segmentOfGroup.values.allSatisfy { $0.count == 1 },
                    "each group must share one segment: \(segmentOfGroup)")

            // /proc/sysvipc/shm: key shmid perms size cpid lpid nattch …; SHM_DEST is 01000 in perms.
            let running = try Self.segments(run, "shm-while-running.txt")
            #expect(running.count == 2, "segments while running: \(running)")
            for segment in running {
                let perms = try #require(Int(segment[2], radix: 8))
                #expect(perms & 0o1000 != 0, "segment \(segment[1]) is not marked for removal")
                #expect(segment[6] == "2", "segment \(segment[1]) has \(segment[6]) attachments, expected its 2 members")
            }
            #expect(try run.code("shm-group.rc") == 0)
            #expect(try Self.segments(run, "shm-after.txt").isEmpty, "segments left behind")
        }

        /// The rows of a copy of /proc/sysvipc/shm, split into fields.
        static func segments(_ run: LabRun, _ name: String) throws -> [[String]] {
            try run.text(name).split(separator: "\n").dropFirst()
                .map { $0.split(separator: " ").map(String.init) }
                .filter { !$0.isEmpty }
        }
    }
}
