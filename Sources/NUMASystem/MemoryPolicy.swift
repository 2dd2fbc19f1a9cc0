import CLinux
import CNUMA
import NUMAModel

/// The NUMA memory-policy system calls: where pages are (move_pages as a
/// query), moving them (move_pages, migrate_pages), and the policies of a
/// range (mbind, get_mempolicy, set_mempolicy_home_node) and of the calling
/// thread (set_mempolicy). Each goes through the CLinux shim's raw syscall,
/// so the status array always comes back; EINTR is retried by `Syscall`.
/// `mode` is the kernel's MPOL_* value, flags (MPOL_F_*) or'ed in.
public enum MemoryPolicy {
    /// The status move_pages leaves on a page it never reached: it stops at
    /// the first run of pages (bound for one node) that did not all move.
    public static let unreachedStatus = Int32.min

    /// move_pages(2) with no node array: the node of each page (≥ 0) or
    /// -errno (-ENOENT/-EFAULT: not resident). One call; `pid` 0 is the caller.
    public static func queryPages(pid: Int32, addresses: ArraySlice<UInt64>,
                                  operation: @autoclosure () -> String = "move_pages query")
        -> Result<[Int32], SystemError>
    {
        movePages(pid: pid, addresses: addresses, nodes: nil, flags: 0, operation: operation())
            .map(\.statuses)
    }

    /// move_pages(2) of each address to its node in `nodes`; `moveAll` is
    /// MPOL_MF_MOVE_ALL (pages other processes map too; needs CAP_SYS_NICE),
    /// else MPOL_MF_MOVE. Returns each page's status (its node now, -errno,
    /// or `unreachedStatus`) and the kernel's count of pages not moved.
    public static func movePages(pid: Int32, addresses: ArraySlice<UInt64>, nodes: [Int32], moveAll: Bool,
                                 operation: @autoclosure () -> String = "move_pages")
        -> Result<(statuses: [Int32], notMoved: Int), SystemError>
    {
        movePages(pid: pid, addresses: addresses, nodes: nodes,
                  flags: Int32(moveAll ? MPOL_MF_MOVE_ALL : MPOL_MF_MOVE), operation: operation())
    }

    /// migrate_pages(2): every page of the process on `from` goes to `to`.
    /// Returns the pages the kernel could not move.
    public static func migratePages(pid: Int32, from: [NodeID], to: [NodeID]) -> Result<Int, SystemError> {
        let old = NodeMask(from), new = NodeMask(to)
        return Syscall.call("migrate_pages of pid \(pid) from nodes \(from) to \(to)") {
            old.words.withUnsafeBufferPointer { o in
                new.words.withUnsafeBufferPointer { n in
                    clinux_migrate_pages(pid, NodeMask.maxnode, o.baseAddress, n.baseAddress)
                }
            }
        }.map { Int($0) }
    }

    /// mbind(2) of [address, address+length): `nodes` nil passes no mask
    /// (MPOL_DEFAULT, MPOL_LOCAL); `moveAll` adds MPOL_MF_MOVE_ALL.
    public static func bind(address: UInt64, length: UInt64, mode: Int32, nodes: [NodeID]?, moveAll: Bool,
                            operation: @autoclosure () -> String = "mbind") -> Result<Void, SystemError> {
        let mask = NodeMask(nodes ?? [])
        let flags = moveAll ? UInt32(MPOL_MF_MOVE_ALL) : 0
        return Syscall.check(operation()) {
            mask.words.withUnsafeBufferPointer {
                clinux_mbind(UnsafeMutableRawPointer(bitPattern: UInt(address)), UInt(length), mode,
                             nodes == nil ? nil : $0.baseAddress, nodes == nil ? 0 : NodeMask.maxnode, flags)
            }
        }
    }

    /// set_mempolicy(2) of the calling thread (inherited across execve);
    /// `nodes` nil passes no mask.
    public static func setThreadPolicy(mode: Int32, nodes: [NodeID]?,
                                       operation: @autoclosure () -> String = "set_mempolicy")
        -> Result<Void, SystemError>
    {
        let mask = NodeMask(nodes ?? [])
        return Syscall.check(operation()) {
            mask.words.withUnsafeBufferPointer {
                clinux_set_mempolicy(mode, nodes == nil ? nil : $0.baseAddress, nodes == nil ? 0 : NodeMask.maxnode)
            }
        }
    }

    /// get_mempolicy(2) with MPOL_F_ADDR: the policy governing `address`
    /// (for a shared object, the object's own), as the raw mode and its nodes.
    public static func policy(at address: UInt64, operation: @autoclosure () -> String = "get_mempolicy")
        -> Result<(mode: Int32, nodes: [NodeID]), SystemError>
    {
        var mode: Int32 = 0
        var mask = NodeMask()
        return Syscall.check(operation()) {
            mask.words.withUnsafeMutableBufferPointer {
                clinux_get_mempolicy_at(&mode, $0.baseAddress, NodeMask.maxnode,
                                        UnsafeMutableRawPointer(bitPattern: UInt(address)))
            }
        }.map { (mode, mask.nodes) }
    }

    /// set_mempolicy_home_node(2) (Linux 5.17+) of [start, start+length):
    /// the node a MPOL_BIND or MPOL_PREFERRED_MANY range allocates on first.
    public static func setHomeNode(start: UInt64, length: UInt64, node: NodeID) -> Result<Void, SystemError> {
        Syscall.check("set_mempolicy_home_node of node \(node)") {
            clinux_set_mempolicy_home_node(UInt(start), UInt(length), UInt(node.rawValue), 0)
        }
    }

    /// The raw move_pages; `nodes` nil is a query (statuses start at 0,
    /// else at `unreachedStatus`, which the kernel overwrites as it goes).
    private static func movePages(pid: Int32, addresses: ArraySlice<UInt64>, nodes: [Int32]?, flags: Int32,
                                  operation: @autoclosure () -> String)
        -> Result<(statuses: [Int32], notMoved: Int), SystemError>
    {
        guard !addresses.isEmpty else { return .success(([], 0)) }
        var pages = addresses.map { UnsafeMutableRawPointer(bitPattern: UInt($0)) }
        var statuses = [Int32](repeating: nodes == nil ? 0 : unreachedStatus, count: addresses.count)
        let result = Syscall.call(operation()) {
            pages.withUnsafeMutableBufferPointer { pointers in
                statuses.withUnsafeMutableBufferPointer { status in
                    guard let nodes else {
                        return clinux_move_pages(pid, UInt(pointers.count), pointers.baseAddress, nil,
                                                 status.baseAddress, flags)
                    }
                    return nodes.withUnsafeBufferPointer {
                        clinux_move_pages(pid, UInt(pointers.count), pointers.baseAddress, $0.baseAddress,
                                          status.baseAddress, flags)
                    }
                }
            }
        }
        return result.map { (statuses, Int($0)) }
    }
}

/// A node mask for mbind/migrate_pages/get_mempolicy: 1024 bits of
/// unsigned long, passed with maxnode one past the bits, as libnuma does.
struct NodeMask {
    static let bits = 1024
    static let maxnode = UInt(bits + 1)
    var words: [UInt]

    init(_ nodes: [NodeID] = []) {
        words = [UInt](repeating: 0, count: Self.bits / UInt.bitWidth)
        for node in nodes where node.rawValue >= 0 && node.rawValue < Self.bits {
            words[node.rawValue / UInt.bitWidth] |= 1 << UInt(node.rawValue % UInt.bitWidth)
        }
    }

    var nodes: [NodeID] {
        var result: [NodeID] = []
        for (index, word) in words.enumerated() where word != 0 {
            for bit in 0..<UInt.bitWidth where word & (1 << UInt(bit)) != 0 {
                result.append(NodeID(index * UInt.bitWidth + bit))
            }
        }
        return result
    }
}
