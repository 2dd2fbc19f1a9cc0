/// CPU capacity of nodes, in milli-CPUs: a thread busy all the interval (or
/// found runnable) counts 1000, a thread busy a tenth of it 100.
///
/// Two rules from task_numa_find_cpu / task_numa_compare:
/// - never more runnable load on a node than its CPUs for the sake of
///   locality: a full node is not a win;
/// - the imbalance rule (load_too_imbalanced): a change must not make
///   `|dst·src_cap − src·dst_cap|` grow.
public enum Capacity {
    /// `|dst·src_cap − src·dst_cap|`: the imbalance between two nodes,
    /// corrected for their capacities (load_too_imbalanced).
    public static func imbalance(sourceLoad: Int, destinationLoad: Int, sourceCapacity: Int,
                                 destinationCapacity: Int) -> Int
    {
        abs(destinationLoad * sourceCapacity - sourceLoad * destinationCapacity)
    }

    /// True when moving `load` from source to destination does not make the
    /// pair more imbalanced than it was.
    public static func keepsBalance(load: Int, sourceLoad: Int, destinationLoad: Int,
                                    sourceCapacity: Int, destinationCapacity: Int) -> Bool
    {
        let before = imbalance(sourceLoad: sourceLoad, destinationLoad: destinationLoad,
                               sourceCapacity: sourceCapacity, destinationCapacity: destinationCapacity)
        let after = imbalance(sourceLoad: sourceLoad - load, destinationLoad: destinationLoad + load,
                              sourceCapacity: sourceCapacity, destinationCapacity: destinationCapacity)
        return after <= before
    }

    /// A move of `load` onto a node already carrying `destinationLoad`:
    /// the node then has no more runnable load than CPUs. The imbalance rule
    /// (`keepsBalanceOrSmall`) applies on top, per source node.
    public static func mayMove(load: Int, destinationLoad: Int, destinationCapacity: Int) -> Bool {
        fits(destinationLoad + load, capacity: destinationCapacity)
    }

    /// NUMA_IMBALANCE_MIN: task_numa_find_cpu (through adjust_numa_imbalance)
    /// lets a move leave up to two tasks of imbalance, so a pair of
    /// communicating tasks can stay together on a lightly used node.
    public static let imbalanceAllowance = 2000

    /// The imbalance rule for a move of `load` from source to destination,
    /// as task_numa_find_cpu applies it on both of its paths: the pair gets no
    /// more imbalanced (load_too_imbalanced), or it is left at most two tasks
    /// apart. (The kernel allows the two tasks only while the destination is
    /// lightly loaded; nodes of two CPUs, as in the lab, never are, and a
    /// process of two threads could then never be gathered.)
    public static func keepsBalanceOrSmall(load: Int, sourceLoad: Int, destinationLoad: Int,
                                           sourceCapacity: Int, destinationCapacity: Int) -> Bool
    {
        if keepsBalance(load: load, sourceLoad: sourceLoad, destinationLoad: destinationLoad,
                        sourceCapacity: sourceCapacity, destinationCapacity: destinationCapacity) { return true }
        let after = imbalance(sourceLoad: sourceLoad - load, destinationLoad: destinationLoad + load,
                              sourceCapacity: sourceCapacity, destinationCapacity: destinationCapacity)
        // (Crumbs of light load, as in `fits`, are no task.)
        return after / max(1, min(sourceCapacity, destinationCapacity)) <= imbalanceAllowance + idleThreadLoad
    }

    /// `load` within `capacity`, with room for crumbs: the light threads of
    /// other processes (timers, a launcher, a shell: under idleThreadLoad in
    /// all) run beside a busy thread per CPU, as the kernel counts tasks, not
    /// milli-CPUs (an idle launcher's 6 milli-CPUs kept two busy threads off
    /// an otherwise empty node of two CPUs).
    public static func fits(_ load: Int, capacity: Int) -> Bool { load <= capacity + idleThreadLoad }

    /// A swap of `loadA` (going from source to destination) with `loadB`
    /// (coming back): both nodes stay within their CPUs (or get no fuller
    /// than they were), and the imbalance rule holds for the net change.
    public static func maySwap(loadA: Int, loadB: Int, sourceLoad: Int, destinationLoad: Int,
                               sourceCapacity: Int, destinationCapacity: Int) -> Bool
    {
        let net = loadA - loadB
        let destinationAfter = destinationLoad + net
        let sourceAfter = sourceLoad - net
        if destinationAfter > max(destinationCapacity, destinationLoad) { return false }
        if sourceAfter > max(sourceCapacity, sourceLoad) { return false }
        if net == 0 { return true }
        return keepsBalance(load: net, sourceLoad: sourceLoad, destinationLoad: destinationLoad,
                            sourceCapacity: sourceCapacity, destinationCapacity: destinationCapacity)
    }

    /// A thread below this (milli-CPUs, 5 % of a CPU) is a light one.
    public static let idleThreadLoad = 50

    /// A process (or group) using less CPU than this (5 % of a CPU, a light
    /// thread's worth) is left where it is, threads and memory: it hardly
    /// accesses its memory (the kernel, which migrates on access, would not
    /// move it either), and pinning idle daemons, a postmaster, a supervisor,
    /// a launcher waiting for its workers buys nothing (at 1 % the lab's
    /// numa01 launcher was pinned to a one-CPU node, and numa01's processes
    /// then needed three nodes each instead of two). Its load still counts.
    public static let placedLoadFloor = idleThreadLoad

    /// Whether a process or unit with this load accesses its memory enough to be placed.
    public static func accesses(load: Int) -> Bool { load >= placedLoadFloor }

    /// Whether a process works on the objects it maps enough to tie itself to
    /// the others that map them (a group): a light thread's worth at least,
    /// so a supervisor waking to reap, a postmaster, a monitor ties nobody.
    public static func sharesObjects(load: Int) -> Bool { load >= idleThreadLoad }

    /// Runnable load of one thread in milli-CPUs: a thread found runnable
    /// wants a whole CPU; otherwise its share of the interval, however small
    /// (200 threads at 4 % are four CPUs of work).
    public static func runnableLoad(cpuSeconds: Double, intervalSeconds: Double, state: Character) -> Int {
        if state == "R" { return 1000 }
        guard intervalSeconds > 0, cpuSeconds > 0 else { return 0 }
        return min(1000, Int(cpuSeconds / intervalSeconds * 1000 + 0.5))
    }

    /// What a process's light threads add to its load: their sum, less one
    /// light thread's worth when it also has busy ones. A launcher's idle
    /// main thread beside two busy workers must not make them "not fit" a
    /// node of two CPUs; many light threads together are real load.
    public static func lightLoad(_ sum: Int, besideBusy: Bool) -> Int {
        besideBusy ? max(0, sum - idleThreadLoad) : sum
    }
}
