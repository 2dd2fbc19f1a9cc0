/// One CPU's cumulative time from /proc/stat, in USER_HZ ticks. Utilisation
/// over an interval is Δbusy ÷ Δtotal between two reads.
public struct CPUTimes: Hashable, Sendable {
    public var cpu: Int
    /// Total less idle and iowait.
    public var busyTicks: UInt64
    /// user + nice + system + idle + iowait + irq + softirq + steal. guest and
    /// guest_nice are left out: the kernel already counts them in user and nice.
    public var totalTicks: UInt64

    public init(cpu: Int, busyTicks: UInt64, totalTicks: UInt64) {
        self.cpu = cpu
        self.busyTicks = busyTicks
        self.totalTicks = totalTicks
    }
}

public enum ProcStat {
    /// The largest CPU number accepted; the kernel's NR_CPUS tops out at 8192.
    static let maxCPU: UInt64 = 1 << 16

    /// The "cpuN …" lines of /proc/stat, in file order (offline CPUs are
    /// absent). The aggregate "cpu" line and the other lines are skipped,
    /// but a text without any cpuN line is an error.
    public static func parseCPUs(_ text: String, source: String = "stat") throws(ProcParseError) -> [CPUTimes] {
        var result: [CPUTimes] = []
        for line in ProcText.lines(text, source: source) where line.hasPrefix("cpu") {
            let fields = line.fields
            guard let label = fields.first, label.count > 3 else { continue }  // the aggregate line
            guard let cpu = ProcText.decimal(label.dropFirst(3)), cpu < maxCPU else {
                throw line.fail("bad CPU label \(ProcText.quoted(label))")
            }
            // user nice system idle have been there since 2.4; later columns may be absent.
            guard fields.count >= 5 else { throw line.fail("cpu\(cpu) has \(fields.count - 1) columns, need 4") }
            var ticks: [UInt64] = []
            for field in fields.dropFirst().prefix(8) {
                guard let value = ProcText.decimal(field) else {
                    throw line.fail("bad tick count \(ProcText.quoted(field))")
                }
                ticks.append(value)
            }
            while ticks.count < 8 { ticks.append(0) }
            var total: UInt64 = 0
            for value in ticks {
                let (sum, overflow) = total.addingReportingOverflow(value)
                guard !overflow else { throw line.fail("absurd tick counts") }
                total = sum
            }
            let idle = ticks[3] + ticks[4]  // cannot overflow: both are in total
            result.append(CPUTimes(cpu: Int(cpu), busyTicks: total - idle, totalTicks: total))
        }
        guard !result.isEmpty else { throw ProcParseError(source: source, line: nil, reason: "no cpuN lines") }
        return result
    }
}
