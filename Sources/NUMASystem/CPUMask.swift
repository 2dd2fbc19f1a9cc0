import CLinux
import NUMAModel

/// CPU sets as the kernel's affinity bit arrays, and the affinity calls.
public enum CPUMask {
    /// 64-bit words with bit i set for CPU i; at least 16 words (1024 CPUs).
    public static func words(_ cpus: CPUSet) -> [UInt64] {
        let count = max(16, (cpus.ids.last ?? 0) / 64 + 1)
        var words = [UInt64](repeating: 0, count: count)
        for cpu in cpus { words[cpu / 64] |= 1 << UInt64(cpu % 64) }
        return words
    }

    /// The CPUs of a mask, by its set bits only: this runs for every thread
    /// of every sampled process each round.
    public static func cpus(_ words: [UInt64]) -> CPUSet {
        var ids: [Int] = []
        for (index, word) in words.enumerated() where word != 0 {
            var rest = word
            while rest != 0 {
                ids.append(index * 64 + rest.trailingZeroBitCount)
                rest &= rest - 1
            }
        }
        return CPUSet(ascending: ids)
    }

    /// sched_getaffinity(2) of a thread (0: the caller), up to 4,096 CPUs.
    public static func affinity(of tid: Int32) -> Result<CPUSet, SystemError> {
        var words = [UInt64](repeating: 0, count: 64)
        return Syscall.check("sched_getaffinity of thread \(tid)") {
            words.withUnsafeMutableBufferPointer { clinux_sched_getaffinity(tid, $0.baseAddress, $0.count) }
        }.map { cpus(words) }
    }

    /// sched_setaffinity(2) of a thread (0: the caller).
    public static func setAffinity(of tid: Int32, to cpus: CPUSet) -> Result<Void, SystemError> {
        let words = words(cpus)
        return Syscall.check("sched_setaffinity of thread \(tid)") {
            words.withUnsafeBufferPointer { clinux_sched_setaffinity(tid, $0.baseAddress, $0.count) }
        }
    }
}
