import NUMAModel
import NUMAPrivileges
import NUMAProc
import NUMASystem

/// One sampling round of one process: page placement from move_pages on a
/// stratified sample of eligible pages, and per-thread CPU time by node.
/// Cost is O(samples), not O(RSS).
public struct ProcessSampler: Sendable {
    public var procfs: ProcFS
    public var topology: Topology
    public var prober: any PageProber
    public var pageSize: UInt64
    /// Where cgroup v2 is mounted, found once (mountinfo does not change under us).
    public var cgroupRoot: String

    public init(procfs: ProcFS = ProcFS(), topology: Topology,
                prober: any PageProber = LinuxPageProber()) {
        self.procfs = procfs
        self.topology = topology
        self.prober = prober
        self.pageSize = UInt64(Host.pageSize)
        self.cgroupRoot = CgroupMount.v2Root(procfs: procfs)
    }

    /// Bytes of /proc/PID/maps a round reads: 250,000 to 500,000 mappings (a
    /// line is about 50 bytes for anonymous memory, 100 and more with a path). A look at 100,000 mappings costs about
    /// 0.1 s more than at a few hundred, most of it the kernel printing them;
    /// a process with millions (vm.max_map_count raised) is sampled from its
    /// first ones rather than costing seconds and hundreds of MB a round.
    public static let mapsByteLimit = 24 << 20

    public func observe(pid: Int32, options: SamplingOptions = SamplingOptions())
        throws(SamplingError) -> SamplingReport
    {
        let stat = try read(pid) { () throws(ProcReadError) in try procfs.stat(pid) }
        if stat.isKernelThread { throw .kernelThread(pid: pid, comm: stat.comm) }
        let status = try read(pid) { () throws(ProcReadError) in try procfs.status(pid) }
        if stat.state == "Z" { return zombie(stat: stat, status: status) }
        let identity = ProcessIdentity(pid: pid, startTime: stat.startTimeTicks)
        let threads = ThreadCPUSampler(procfs: procfs)
        // A baseline from an earlier round of this same process (not a reused pid).
        let baseline = options.cpuBaseline.flatMap { $0.identity == identity ? $0 : nil }
        let cpuBefore: [Int32: ThreadReading]
        if let baseline { cpuBefore = baseline.readings } else {
            cpuBefore = try read(pid) { () throws(ProcReadError) in try threads.read(pid: pid, affinities: false) }
        }
        let started = baseline?.time ?? Clock.monotonicSeconds()
        let writes = SoftDirty(procRoot: procfs.root, pageSize: pageSize)
        // One-shot: clear now and read at the end of the interval; a later
        // round reads what the previous round cleared.
        var writesNote: String? = options.trackWrites ? nil : "off (opt-in)"
        if options.trackWrites, baseline?.writesCleared != true { writesNote = writes.clear(pid: pid) }

        var events: [String] = []
        let mapsStart = Clock.monotonicSeconds()
        let (mappings, cut) = try read(pid) { () throws(ProcReadError) in
            try procfs.maps(pid, limit: options.mapsByteLimit)
        }
        if cut {
            events.append("maps is longer than \(options.mapsByteLimit) bytes: sampled from its first "
                + "\(mappings.count) mappings (the lowest addresses)")
        }
        let eligible = mappings.filter { $0.isEligible(hugetlb: options.hugetlb) }
        let forged = eligible.compactMap { KernelSharedMemory.forgery($0) }
        // The shared object of a mapping, unless it only claims to be a SysV segment.
        func object(_ mapping: Mapping) -> SharedObject? {
            forged.isEmpty || KernelSharedMemory.forgery(mapping) == nil ? mapping.sharedObject : nil
        }
        let sampler = AddressSampler(regions: eligible.map {
            EligibleRegion(start: $0.start, end: $0.end, sharedObject: object($0)?.key,
                           pageBytes: $0.isHugeTLB ? HugePages.defaultBytes : 0)
        }, pageSize: pageSize)
        let mapsSeconds = Clock.monotonicSeconds() - mapsStart

        let round = try samplePages(pid: pid, sampler: sampler, options: options, status: status)
        events += round.events
        let pages = round.pages
        let ranges = PlacementEstimator.ranges(sampler: sampler, addresses: round.addresses,
                                               statuses: round.statuses)

        let remaining = options.cpuInterval - .seconds(Clock.monotonicSeconds() - started)
        if baseline == nil, remaining > .zero { Clock.sleep(for: remaining) }
        let cpuAfter: [Int32: ThreadReading]
        do { cpuAfter = try threads.read(pid: pid) } catch {
            // The process exited in the interval: report what was seen.
            if !round.exited { events.append("the process exited during the round") }
            cpuAfter = [:]
        }
        let ended = Clock.monotonicSeconds()
        let interval = ended - started
        let activity = threads.activity(before: cpuBefore, after: cpuAfter, topology: topology)

        let (faults, faultTier) = kernelFaults(pid: pid, tids: Array(cpuAfter.keys), options: options)
        var written: [NodeID: Int]?
        if writesNote == nil {
            if let bits = writes.written(pid: pid, addresses: round.addresses) {
                written = SoftDirty.writtenByNode(statuses: round.statuses, written: bits)
                let total = written?.values.reduce(0, +) ?? 0
                writesNote = writes.clear(pid: pid)
                    ?? "used: \(total) of \(pages.resident) sampled resident pages written in the interval"
            } else {
                writesNote = "not available: /proc/\(pid)/pagemap cannot be read"
            }
        }
        let cgroupRoot = options.cgroupRoot ?? self.cgroupRoot
        let cpuset = (try? procfs.effectiveCpuset(pid, cgroupRoot: cgroupRoot))?.cpus
        let huge = options.readHugePages ? (try? procfs.smapsRollup(pid))?.anonHugePagesBytes : nil
        let objects = Dictionary(eligible.compactMap(object).map { ($0.key, $0) },
                                 uniquingKeysWith: { a, b in
                                     var merged = a
                                     merged.bytes += b.bytes
                                     return merged
                                 })
        var observation = Observation(
            identity: identity, comm: stat.comm,
            time: Clock.monotonicSeconds(), intervalSeconds: interval, pages: pages, ranges: ranges,
            threads: activity, allowedCPUs: status.cpusAllowed, allowedNodes: status.memsAllowed,
            rssBytes: status.vmRSSBytes ?? 0, eligibleBytes: sampler.totalPages * pageSize,
            hugePageBytes: huge, sharedObjects: objects.keys.sorted().compactMap { objects[$0] },
            kernelFaults: faults, events: events, cpusetCPUs: cpuset, writtenPagesByNode: written)
        observation.threadAffinities = ThreadCPUSampler.otherAffinities(cpuAfter, main: status.cpusAllowed)
        observation.image = status.uids.count > 1 ? procfs.programImage(pid, euid: status.uids[1]) : nil
        observation.uid = status.uids.first
        observation.events += forged.map { "not a SysV segment: \($0)" }
        return SamplingReport(observation: observation, probeSeconds: round.probeSeconds,
                              design: round.design, mapsSeconds: mapsSeconds,
                              tiers: AccessTiers(kernelHintFaults: faultTier, softDirty: writesNote ?? "off"),
                              cpuBaseline: CPUBaseline(identity: identity, readings: cpuAfter, time: ended,
                                                       writesCleared: options.trackWrites && written != nil),
                              forgedSegments: forged)
    }

    private func kernelFaults(pid: Int32, tids: [Int32], options: SamplingOptions)
        -> (KernelFaults?, String)
    {
        guard options.readKernelFaults else { return (nil, "off") }
        let setting = (try? procfs.readSystem("sys/kernel/numa_balancing"))?.trimmingWhitespace()
        guard let setting, setting != "0" else {
            return (nil, "not available: kernel.numa_balancing is \(setting ?? "absent")")
        }
        let tasks = tids.compactMap { try? procfs.sched(pid, tid: $0) }
        guard let faults = NUMAProc.kernelFaults(summing: tasks) else {
            return (nil, "not available: no numa_faults lines in /proc/\(pid)/task/*/sched")
        }
        return (faults, "used (kernel.numa_balancing=\(setting))")
    }

    /// A zombie has exited and has no memory left; its parent has not reaped it yet.
    private func zombie(stat: TaskStat, status: ProcessStatus) -> SamplingReport {
        let identity = ProcessIdentity(pid: stat.pid, startTime: stat.startTimeTicks)
        let now = Clock.monotonicSeconds()
        let observation = Observation(
            identity: identity, comm: stat.comm, time: now, intervalSeconds: 0, pages: .empty,
            threads: [], allowedCPUs: status.cpusAllowed, allowedNodes: status.memsAllowed,
            rssBytes: 0, eligibleBytes: 0,
            events: ["zombie: the process has exited and waits for its parent to reap it"])
        return SamplingReport(observation: observation, probeSeconds: 0,
                              design: SampleDesign(runLength: 1, pages: 0), mapsSeconds: 0,
                              tiers: AccessTiers(kernelHintFaults: "off", softDirty: "off"),
                              cpuBaseline: CPUBaseline(identity: identity, readings: [:], time: now))
    }

    /// Maps /proc read errors of this pid to sampling errors.
    func read<T>(_ pid: Int32, _ body: () throws(ProcReadError) -> T) throws(SamplingError) -> T {
        do { return try body() } catch {
            switch error {
            case .noSuchProcess: throw .noSuchProcess(pid: pid)
            case .permissionDenied(_, let path):
                throw .notPermitted(pid: pid, denied: path, explanation: Privileges.current()
                    .explainReadDenied(pid: pid, status: try? procfs.status(pid)))
            default: throw .unreadable(pid: pid, detail: error.description)
            }
        }
    }
}
