import Foundation
import Glibc
import NUMAModel
import NUMAProc
import NUMATopology
import Testing

@testable import NUMASampling

/// Real move_pages on this machine (one node here; the lab tests many).
@Suite("Sampling a live process on this machine")
struct LiveSamplingTests {
    @Test("200 MiB touched by this process: every sampled page is on a node of this machine, matching numa_maps")
    func selfSample() throws {
        let size = 200 << 20
        let buffer = try #require(mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        defer { munmap(buffer, size) }
        let bytes = buffer.assumingMemoryBound(to: UInt8.self)
        for offset in stride(from: 0, to: size, by: 4096) { bytes[offset] = 1 }

        let topology = try TopologyReader().read()
        var options = SamplingOptions()
        options.cpuInterval = .milliseconds(50)
        options.budgetSeconds = 1  // a debug build on a loaded machine is slow
        let pid = getpid()
        let report = try ProcessSampler(topology: topology).observe(pid: pid, options: options)
        let pages = report.observation.pages
        // Every node's 95 % interval within ±2 pp, from enough independent pages.
        #expect(SamplePlanner.widestInterval(pages) <= 0.02)
        #expect(pages.effectiveSampleSize >= 190)
        #expect(report.design.pages == pages.queried)
        #expect(pages.failed == 0)
        // The 200 MiB range is in the eligible set.
        let start = UInt64(UInt(bitPattern: buffer))
        #expect(report.observation.ranges.contains { $0.start <= start && start < $0.end })
        #expect(report.observation.eligibleBytes >= UInt64(size))

        let procfs = ProcFS()
        let exact = exactPagesByNode(maps: try procfs.maps(pid), numaMaps: try procfs.numaMaps(pid))
        let total = Double(exact.values.reduce(0, +))
        for node in topology.nodeIDs {
            let truth = Double(exact[node] ?? 0) / total
            let estimate = pages.share(of: node) ?? 0
            #expect(abs(truth - estimate) <= 0.02, "node \(node): estimate \(estimate) vs numa_maps \(truth)")
        }
        if topology.nodes.count == 1 { #expect(pages.share(of: topology.nodeIDs[0]) == 1) }
    }

    @Test("a pid that does not exist is reported by number")
    func missingProcess() throws {
        let topology = try TopologyReader().read()
        #expect {
            try ProcessSampler(topology: topology).observe(pid: 999_999)
        } throws: { error in
            (error as? SamplingError) == .noSuchProcess(pid: 999_999)
                && String(describing: error).contains("999999")
        }
    }

    @Test("a kernel thread is refused with its name")
    func kernelThread() throws {
        let topology = try TopologyReader().read()
        // kthreadd is pid 2 on Linux.
        guard let stat = try? ProcFS().stat(2), stat.isKernelThread else {
            print("skipped: pid 2 is not a kernel thread here (containers may hide it)")
            return
        }
        #expect(throws: SamplingError.kernelThread(pid: 2, comm: stat.comm)) {
            try ProcessSampler(topology: topology).observe(pid: 2)
        }
    }

    @Test("the CPU side: a busy thread's time lands on the node of its CPU")
    func cpuSide() throws {
        let topology = try TopologyReader().read()
        let sampler = ThreadCPUSampler(procfs: ProcFS())
        let pid = getpid()
        let before = try sampler.read(pid: pid)
        // Spin until this thread has used 0.2 s of CPU (not of wall time: the machine may be busy).
        let threadStart = threadCPUSeconds()
        let deadline = monotonicSeconds() + 10
        var spin = 0.0
        while threadCPUSeconds() - threadStart < 0.2, monotonicSeconds() < deadline { spin += 1 }
        let after = try sampler.read(pid: pid)
        let activity = sampler.activity(before: before, after: after, topology: topology)
        let busy = activity.filter { $0.cpuSeconds > 0 }
        #expect(spin > 0)
        #expect(!busy.isEmpty)
        #expect(busy.allSatisfy { $0.node != nil })
        // Ticks are 10 ms: allow one tick of rounding per reading.
        #expect(activity.map(\.cpuSeconds).reduce(0, +) >= 0.18)
    }
}

func threadCPUSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
