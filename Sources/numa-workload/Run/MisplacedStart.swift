// The start the "memory on one node, threads on another" scenarios share.
import CLinux
import Glibc

enum MisplacedStart {
    /// Checks both nodes, runs the process on `memNode`'s CPUs (when it has
    /// any) and gathers every page it has so far there, so the runtime's
    /// own memory is misplaced too. Returns `cpuNode`'s CPUs, where the
    /// scenario's threads are to run.
    ///
    /// A process started elsewhere is first executed again on `memNode`'s
    /// CPUs, so its runtime is born there: pinning and then gathering a
    /// running process shows a balancer, for the seconds migrate_pages takes
    /// in an emulated guest, one thread on `memNode` and its pages still
    /// elsewhere, a misplaced process before the scenario has begun (the
    /// daemon once moved 83 such pages before the sparse heap was ready).
    static func prepare(memNode: Int, cpuNode: Int) throws -> [Int] {
        let cpus = try NodeCPUs.cpus(of: cpuNode)
        guard !cpus.isEmpty else { throw WorkloadError("node \(cpuNode) has no CPUs") }
        try NodeCPUs.requireMemory(on: memNode)
        let homeCPUs = try NodeCPUs.cpus(of: memNode)
        if !homeCPUs.isEmpty, !Set(try NodeCPUs.allowedCPUs()).isSubset(of: homeCPUs) {
            try NodeCPUs.pinCurrentThread(to: homeCPUs)
            try executeAgain()
        }
        try MemoryPolicy.gatherOwnPages(on: memNode)
        return cpus
    }

    /// The same program with the same arguments (the pid stays, the affinity
    /// is inherited); returns only by throwing. By its own path, not
    /// /proc/self/exe: the kernel names the process after the file executed,
    /// and a policy matching "numa-workload" must still match.
    static func executeAgain() throws -> Never {
        var path = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &path, path.count - 1)
        guard length > 0 else { throw WorkloadError("readlink /proc/self/exe", errno: errno) }
        let argv = CommandLine.arguments.map { strdup($0) } + [nil]
        execv(path, argv)
        let name = String(decoding: path.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw WorkloadError("execv \(name)", errno: errno)
    }
}
