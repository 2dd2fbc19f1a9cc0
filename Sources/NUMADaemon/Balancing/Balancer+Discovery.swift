import Foundation
import Logging
import NUMAActuation
import NUMAModel
import NUMAPlacement
import NUMAPolicy
import NUMAProc
import NUMASampling
import NUMASystem
import NUMATopology
import Synchronization

/// Finding processes in /proc and deciding how each is treated.
extension Balancer {
    /// Seconds between two /proc listings: each second without the kernel's
    /// process events; with them, only to reconcile (a lost event, a pid
    /// reused unseen).
    var listingInterval: Double { tools.events == nil ? 1 : 30 }

    /// Lists /proc: new processes are matched to a policy; gone ones dropped;
    /// after a reload every process is matched again.
    func discover(now: Double) {
        processes.lastListing = now
        processes.lastRecheck = now
        processes.started = [:]
        let pids = tools.procfs.pids()
        let alive = Set(pids)
        var gone = Set<ProcessIdentity>()
        // Keys only: walking the entries would copy every one of them.
        for pid in Array(processes.tracked.keys) where !alive.contains(pid) {
            if let entry = processes.tracked.removeValue(forKey: pid) { gone.insert(entry.identity) }
        }
        for pid in Array(processes.kernelThreads.keys) where !alive.contains(pid) { processes.kernelThreads[pid] = nil }
        for pid in Array(processes.awaitingMatch.keys) where !alive.contains(pid) { processes.awaitingMatch[pid] = nil }
        for pid in pids { look(at: pid, via: "listing", now: now) }
        engine.forget(gone)
        tools.pool.forget(gone.map(\.pid))
    }

    /// One pid of a listing or of the process events: a new one examined, a
    /// known one looked at again when it is due.
    func look(at pid: Int32, via source: String, now: Double) {
        // A kernel thread stays one; its pid is checked again now and then,
        // in case it exited and the pid went to a new process in between.
        if let recheck = processes.kernelThreads[pid], now < recheck { return }
        if processes.awaitingMatch[pid] != nil { return }
        if let known = processes.tracked[pid], known.generation == settings.generation {
            recheck(pid: pid, known: known, now: now)
            return
        }
        if processes.tracked[pid] == nil { logger.debug("discovered", metadata: ["pid": "\(pid)", "via": "\(source)"]) }
        examine(pid: pid, now: now)
    }

    func recheck(pid: Int32, known: TrackedProcess, now: Double) {
        if known.standing == .small, now >= known.nextLook {
            recheckSmall(pid: pid, known: known, now: now)
        } else if known.isDirected, now < known.nextLook {
            recheckDirected(pid: pid, known: known, now: now)
        }
    }

    /// Between two listings (the process events on): the known processes'
    /// looks, each second, as the listing would have done them.
    func recheckTracked(now: Double) {
        processes.lastRecheck = now
        for pid in Array(processes.tracked.keys) {
            guard let known = processes.tracked[pid], known.generation == settings.generation else { continue }
            recheck(pid: pid, known: known, now: now)
        }
    }

    /// The kernel's process events since the last take. A process that
    /// started a program is looked at `startDelay` after it was reported
    /// (a build's compilers and a shell's pipelines are mostly gone by
    /// then, and a fork followed by an exec is one look); one that ended is
    /// dropped. Lost events bring the listing forward.
    func follow(_ taken: ProcessEventThread.Taken, now: Double) {
        if taken.lost { processes.lastListing = -.infinity }
        for (pid, at) in taken.started where pid != tools.selfPID && processes.started[pid] == nil {
            guard processes.started.count < ProcessEventThread.queueLimit else { processes.lastListing = -.infinity; break }
            processes.started[pid] = at
        }
        var gone = Set<ProcessIdentity>()
        for pid in taken.ended {
            if let entry = processes.tracked[pid], entry.standing == .balanced,
               Self.leaderLeftAlone(try? tools.procfs.stat(pid), entry.identity) {
                continue
            }
            processes.started[pid] = nil
            processes.awaitingMatch[pid] = nil
            processes.kernelThreads[pid] = nil
            if let entry = processes.tracked.removeValue(forKey: pid) { gone.insert(entry.identity) }
        }
        if !gone.isEmpty {
            engine.forget(gone)
            tools.pool.forget(gone.map(\.pid))
        }
    }

    /// The started processes a start delay old: looked at (the younger wait).
    func lookAtStarted(now: Double) {
        for (pid, seen) in processes.started where now - seen >= Self.startDelay {
            processes.started[pid] = nil
            // An exec'd process already known is matched again (its program
            // changed), unless a sampler has it now.
            if processes.tracked[pid] != nil, !processes.inFlight.contains(pid), processes.awaitingMatch[pid] == nil {
                examine(pid: pid, now: now)
            } else {
                look(at: pid, via: "event", now: now)
            }
        }
    }

    /// The leader thread ended and the others run on: the kernel reports
    /// the leader's exit as the process's (its pid is the group's), and
    /// /proc shows a zombie leader with the group's threads. Only for a
    /// process being balanced: one read of its stat.
    static func leaderLeftAlone(_ stat: TaskStat?, _ identity: ProcessIdentity) -> Bool {
        guard let stat, stat.startTimeTicks == identity.startTime else { return false }
        return stat.state == "Z" && stat.numThreads > 1
    }

    /// How old a process reported by the events is when it is first looked at.
    static let startDelay = 0.5

    /// A small process is looked at again from its stat alone (one read, not
    /// the five of its facts): still small, it waits; grown, reused or gone,
    /// it is examined whole. With policies that match on usage, always whole.
    func recheckSmall(pid: Int32, known: TrackedProcess, now: Double) {
        guard !settings.policies.matchesOnUsage, let stat = try? tools.procfs.stat(pid),
              ProcessIdentity(pid: pid, startTime: stat.startTimeTicks) == known.identity,
              stat.rssBytes < settings.config.sampling.minResidentBytes
        else {
            examine(pid: pid, now: now)
            return
        }
        processes.tracked[pid]?.nextLook = now + smallLookInterval(stat)
    }

    func smallLookInterval(_ stat: TaskStat) -> Double { Self.smallLookInterval(age: processAge(stat.startTimeTicks)) }

    /// Seconds until a small process's next stat read: a quarter of its age,
    /// 2 s to 30 s. A program allocates in its first seconds, and the longer
    /// it has stayed small the less likely it grows soon (the kernel too
    /// lengthens a task's scan period while nothing changes). A flat 2 s
    /// while under a minute old read 1,000 such processes' stat 500 times a
    /// second after a burst of starts; this reads each 13 times in its first
    /// minute, not 30, and one growing at 40 s is still seen within 10 s.
    static func smallLookInterval(age: Double) -> Double { min(30, max(2, age / 4)) }

    /// Seconds between two reads of a kernel thread's stat (only to notice its pid reused).
    static let kernelThreadRecheck = 30.0

    /// A program's start-up: its allocations, its workers, its own affinity calls.
    static let youngSeconds = 60.0

    /// A process under a pin, preferred or interleave policy waits its
    /// policy's cool-down between looks once settled. While it is young, its
    /// stat is read each second (one read), and a changed thread count or a
    /// grown heap brings the next look forward: its workers, started after
    /// the look that found it settled, are placed at once, not a cool-down later.
    func recheckDirected(pid: Int32, known: TrackedProcess, now: Double) {
        guard let last = known.last, !processes.inFlight.contains(pid), processAge(known.identity.startTime) < Self.youngSeconds,
              let stat = try? tools.procfs.stat(pid), stat.startTimeTicks == known.identity.startTime else { return }
        if Settling.reason(previousThreads: last.threads.count, previousRSS: last.rssBytes,
                           threads: stat.numThreads, rss: stat.rssBytes) != nil {
            known.nextLook = now
        }
    }

    /// Reads the cheap facts of one process and decides how it is treated.
    func examine(pid: Int32, now: Double) {
        guard let stat = try? tools.procfs.stat(pid) else {
            processes.tracked[pid] = nil
            return
        }
        processes.kernelThreads[pid] = nil
        if stat.isKernelThread {
            processes.tracked[pid] = nil
            processes.kernelThreads[pid] = now + Self.kernelThreadRecheck
            return
        }
        let identity = ProcessIdentity(pid: pid, startTime: stat.startTimeTicks)
        if let old = processes.tracked[pid], old.identity != identity { engine.forget([old.identity]) }
        let known = processes.tracked[pid].flatMap { $0.identity == identity ? $0 : nil }
        guard let facts = tools.factsReader.facts(pid, stat: stat, cpuShare: known?.last.flatMap(Self.cpuShare)) else {
            processes.tracked[pid] = nil
            return
        }
        let matcher = settings.policies.matcher
        guard matcher.matchesCommandLines else {
            place(identity: identity, stat: stat, facts: facts, matched: matcher.match(for: facts), now: now)
            return
        }
        let request = PolicyMatchThread.Request(identity: identity, stat: stat, facts: facts,
                                                generation: settings.generation, matcher: matcher)
        // A full queue: this process waits for a later listing.
        if tools.matchThread.submit(request) { processes.awaitingMatch[pid] = identity }
    }

    /// An answer from the match thread: placed as `examine` would have, unless
    /// the process exited or the policies were reloaded meanwhile (then the
    /// next listing examines it again).
    func matched(_ answer: PolicyMatchThread.Answer, now: Double) {
        let request = answer.request
        let pid = request.identity.pid
        guard processes.awaitingMatch[pid] == request.identity else { return }
        processes.awaitingMatch[pid] = nil
        guard request.generation == settings.generation,
              (try? tools.procfs.stat(pid))?.startTimeTicks == request.identity.startTime else { return }
        place(identity: request.identity, stat: request.stat, facts: request.facts, matched: answer.result, now: now)
    }

    /// How a process matched to `matched` is treated from now on.
    func place(identity: ProcessIdentity, stat: TaskStat, facts: ProcessFacts, matched: MatchResult, now: Double) {
        let pid = identity.pid
        var entry = processes.tracked[pid].flatMap { $0.identity == identity ? $0 : nil }
        let policy = matched.policy
        if !matched.timedOut.isEmpty {
            logger.warning("cmdline regex stopped at its time limit: taken as not matching", metadata: [
                "pid": "\(pid)", "comm": "\(stat.comm)", "policies": "\(matched.timedOut.joined(separator: ","))",
                "limitMs": "\(Int(ProcessMatcher.regexTimeLimit * 1000))",
            ])
        }
        let standing: TrackedProcess.Standing
        if pid == 1 || pid == tools.selfPID {
            standing = .exempt
        } else if policy.placement.mode == .ignore {
            standing = .ignored
        } else if policy.placement.mode == .auto, (facts.rssBytes ?? 0) < settings.config.sampling.minResidentBytes,
                  policy.match.minRSSBytes == nil, !policy.sampling.hugetlb {
            // (RSS leaves hugetlb pages out: a policy sampling them judges size by the sample.)
            standing = .small
        } else {
            standing = entry?.standing == .unreadable ? .unreadable : .balanced
        }
        if entry == nil {
            entry = TrackedProcess(identity: identity, comm: stat.comm, standing: standing, policy: policy,
                                   generation: settings.generation, nextLook: now)
            entry?.ownAffinity = acts.ownAffinities[identity]
            entry?.actedAtWall = acts.actedAtWall[identity]
            if let parent = processes.tracked[stat.ppid], let pin = parent.ownAffinity, entry?.ownAffinity == nil {
                releaseInherited(pin, identity: identity, parent: parent)
            }
        }
        let changed = entry?.policy != policy
        entry?.comm = stat.comm
        entry?.standing = standing
        entry?.policy = policy
        entry?.generation = settings.generation
        if changed { entry?.nextLook = now }
        if entry?.last == nil { entry?.foundRSS = facts.rssBytes }
        if standing == .balanced, entry?.primed == false {
            // Its first round then measures CPU time from now.
            tools.pool.startInterval(pid: pid, identity: identity)
            entry?.primed = true
            clock.soonestLook = min(clock.soonestLook, now)   // its first look comes now, not at the next round
        }
        // A small process is looked at again later: soon while it is young
        // (a program allocates in its first seconds), rarely once it is not.
        if standing == .small { entry?.nextLook = now + smallLookInterval(stat) }
        processes.tracked[pid] = entry
    }


    /// A child started by a process numabalance pinned inherits the pin (a
    /// launcher's workers all on its node). That pin was for the parent: the
    /// child's affinity goes back to its cpuset, and the engine places it anew.
    func releaseInherited(_ pin: CPUSet, identity: ProcessIdentity, parent: TrackedProcess) {
        guard let status = try? tools.procfs.status(identity.pid), status.cpusAllowed == pin else { return }
        let cpus = tools.kernel.cpuset(identity.pid)?.cpus ?? machine.topology.allCPUs
        guard cpus != pin else { return }
        let reason = Reason(rule: .release, summary: "inherited numabalance's pin of its parent, pid "
            + "\(parent.identity.pid) (\(parent.comm)): back to its cpuset; placed on its own from now on")
        acts.releases.append(.setAffinity(SetAffinity(process: identity, cpus: cpus,
                                                 nodes: machine.topology.nodes.filter { !$0.cpus.intersection(cpus).isEmpty }.map(\.id),
                                                 reason: reason)))
    }


    /// Seconds since the process started: stat's start time (ticks since
    /// boot) against CLOCK_BOOTTIME, /proc/uptime's clock, without reading it.
    func processAge(_ startTimeTicks: UInt64) -> Double {
        Clock.bootSeconds() - Double(startTimeTicks) / tools.ticksPerSecond
    }

    static func cpuShare(_ o: Observation) -> Double? {
        guard o.intervalSeconds > 0 else { return nil }
        return o.threads.reduce(0) { $0 + $1.cpuSeconds } / o.intervalSeconds
    }
}
