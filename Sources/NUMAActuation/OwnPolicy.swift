import CLinux
import Glibc
import NUMAModel

/// The calling thread's own placement, for `numabalance exec`: a memory
/// policy (set_mempolicy) and an affinity, both inherited across execve by
/// the thread that calls it (policy and affinity are per thread).
public enum OwnPolicy {
    /// set_mempolicy(2) of the calling thread.
    public static func setMemoryPolicy(_ policy: MemoryPolicySpec) -> Result<Void, SyscallError> {
        let mask = NodeMaskWords(policy.nodes)
        let mode = MemoryPolicyMode.value(of: policy.mode)
        let hasNodes = policy.mode != .default && policy.mode != .local
        return Syscall.check("set_mempolicy \(policy)") {
            mask.words.withUnsafeBufferPointer {
                clinux_set_mempolicy(mode, hasNodes ? $0.baseAddress : nil, hasNodes ? NodeMaskWords.maxnode : 0)
            }
        }
    }

    /// sched_setaffinity(2) of the calling thread.
    public static func setAffinity(_ cpus: CPUSet) -> Result<Void, SyscallError> {
        let words = CPUWords.words(of: cpus)
        return Syscall.check("sched_setaffinity to CPUs \(cpus)") {
            words.withUnsafeBufferPointer { clinux_sched_setaffinity(0, $0.baseAddress, $0.count) }
        }
    }

    /// execvp(3): replaces this process with `arguments[0]`, searched in
    /// PATH. Returns only on failure.
    public static func exec(_ arguments: [String]) -> SyscallError {
        guard let program = arguments.first else { return SyscallError("execvp of an empty command", errno: EINVAL) }
        let pointers = arguments.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        while true {
            _ = execvp(program, pointers)
            if errno != EINTR { break }
        }
        return SyscallError("execvp of \(program)", errno: errno)
    }
}
