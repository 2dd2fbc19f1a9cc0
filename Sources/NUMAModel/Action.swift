/// An address range of a process, [start, end).
public struct AddressRange: Hashable, Sendable, Codable, CustomStringConvertible {
    public var start: UInt64
    public var end: UInt64
    /// The size of the range's pages when larger than a base page (a hugetlb
    /// mapping: one move_pages entry per huge page); 0 for base pages.
    public var pageBytes: UInt64

    public init(start: UInt64, end: UInt64, pageBytes: UInt64 = 0) {
        self.start = start
        self.end = end
        self.pageBytes = pageBytes
    }

    enum CodingKeys: String, CodingKey { case start, end, pageBytes }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        start = try c.decode(UInt64.self, forKey: .start)
        end = try c.decode(UInt64.self, forKey: .end)
        pageBytes = try c.decodeIfPresent(UInt64.self, forKey: .pageBytes) ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(start, forKey: .start)
        try c.encode(end, forKey: .end)
        if pageBytes > 0 { try c.encode(pageBytes, forKey: .pageBytes) }
    }

    public var bytes: UInt64 { end > start ? end - start : 0 }
    public var description: String { "0x\(String(start, radix: 16))-0x\(String(end, radix: 16))" }
}

/// The memory policy to give a shared object (mbind on the object's mapping).
public enum ObjectPolicy: String, Hashable, Sendable, Codable {
    /// MPOL_PREFERRED: the node first, others when it is full (no OOM kill).
    case preferred
    /// MPOL_INTERLEAVE over the nodes.
    case interleave
    /// MPOL_BIND: only those nodes.
    case bind
}

/// Restrict every thread of a process to `cpus` (sched_setaffinity).
public struct SetAffinity: Hashable, Sendable, Codable {
    public var process: ProcessIdentity
    public var cpus: CPUSet
    /// The nodes whose CPUs `cpus` are.
    public var nodes: [NodeID]
    public var reason: Reason

    public init(process: ProcessIdentity, cpus: CPUSet, nodes: [NodeID], reason: Reason) {
        self.process = process
        self.cpus = cpus
        self.nodes = nodes
        self.reason = reason
    }
}

/// Move every page of a process that lives on `from` to `to` (migrate_pages).
public struct MovePages: Hashable, Sendable, Codable {
    public var process: ProcessIdentity
    public var from: [NodeID]
    public var to: NodeID
    /// Estimated bytes (sampled share × resident bytes).
    public var bytes: UInt64
    public var reason: Reason

    public init(process: ProcessIdentity, from: [NodeID], to: NodeID, bytes: UInt64, reason: Reason) {
        self.process = process
        self.from = from
        self.to = to
        self.bytes = bytes
        self.reason = reason
    }
}

/// Move the pages of some address ranges of a process to `to` (move_pages).
public struct MoveRanges: Hashable, Sendable, Codable {
    public var process: ProcessIdentity
    public var ranges: [AddressRange]
    public var to: NodeID
    public var bytes: UInt64
    public var reason: Reason

    public init(process: ProcessIdentity, ranges: [AddressRange], to: NodeID, bytes: UInt64,
                reason: Reason) {
        self.process = process
        self.ranges = ranges
        self.to = to
        self.bytes = bytes
        self.reason = reason
    }
}

/// Give a shared object a memory policy and move its existing pages
/// (mbind with MPOL_MF_MOVE_ALL through one process that maps it).
public struct SetObjectPolicy: Hashable, Sendable, Codable {
    /// `SharedObject.key`.
    public var objectKey: String
    /// A process that maps the object, and where: the actuator's way in
    /// (/proc/pid/map_files/START-END).
    public var via: ProcessIdentity
    public var ranges: [AddressRange]
    public var policy: ObjectPolicy
    public var nodes: [NodeID]
    public var moveExisting: Bool
    public var bytes: UInt64
    public var reason: Reason

    public init(objectKey: String, via: ProcessIdentity, ranges: [AddressRange], policy: ObjectPolicy,
                nodes: [NodeID], moveExisting: Bool, bytes: UInt64, reason: Reason) {
        self.objectKey = objectKey
        self.via = via
        self.ranges = ranges
        self.policy = policy
        self.nodes = nodes
        self.moveExisting = moveExisting
        self.bytes = bytes
        self.reason = reason
    }
}

/// Two processes exchange nodes: `a` goes to `aCPUs`, `b` to `bCPUs`.
public struct SwapProcesses: Hashable, Sendable, Codable {
    public var a: ProcessIdentity
    public var aCPUs: CPUSet
    public var aNode: NodeID
    public var b: ProcessIdentity
    public var bCPUs: CPUSet
    public var bNode: NodeID
    public var reason: Reason

    public init(a: ProcessIdentity, aCPUs: CPUSet, aNode: NodeID, b: ProcessIdentity, bCPUs: CPUSet,
                bNode: NodeID, reason: Reason) {
        self.a = a
        self.aCPUs = aCPUs
        self.aNode = aNode
        self.b = b
        self.bCPUs = bCPUs
        self.bNode = bNode
        self.reason = reason
    }
}

/// One step of a plan. Encoded as an object with a "kind" key beside the
/// payload's own keys, so a journal line reads flat.
public enum Action: Hashable, Sendable, Codable {
    case setAffinity(SetAffinity)
    case movePages(MovePages)
    case moveRanges(MoveRanges)
    case setObjectPolicy(SetObjectPolicy)
    case swap(SwapProcesses)

    public var reason: Reason {
        switch self {
        case .setAffinity(let a): a.reason
        case .movePages(let a): a.reason
        case .moveRanges(let a): a.reason
        case .setObjectPolicy(let a): a.reason
        case .swap(let a): a.reason
        }
    }

    /// Bytes of memory the action moves.
    public var bytes: UInt64 {
        switch self {
        case .setAffinity, .swap: 0
        case .movePages(let a): a.bytes
        case .moveRanges(let a): a.bytes
        case .setObjectPolicy(let a): a.moveExisting ? a.bytes : 0
        }
    }

    /// The processes the action touches.
    public var processes: [ProcessIdentity] {
        switch self {
        case .setAffinity(let a): [a.process]
        case .movePages(let a): [a.process]
        case .moveRanges(let a): [a.process]
        case .setObjectPolicy(let a): [a.via]
        case .swap(let a): [a.a, a.b]
        }
    }

    public var kind: String {
        switch self {
        case .setAffinity: "setAffinity"
        case .movePages: "movePages"
        case .moveRanges: "moveRanges"
        case .setObjectPolicy: "setObjectPolicy"
        case .swap: "swap"
        }
    }

    private enum KindKey: String, CodingKey { case kind }

    public init(from decoder: any Decoder) throws {
        let kind = try decoder.container(keyedBy: KindKey.self).decode(String.self, forKey: .kind)
        switch kind {
        case "setAffinity": self = .setAffinity(try SetAffinity(from: decoder))
        case "movePages": self = .movePages(try MovePages(from: decoder))
        case "moveRanges": self = .moveRanges(try MoveRanges(from: decoder))
        case "setObjectPolicy": self = .setObjectPolicy(try SetObjectPolicy(from: decoder))
        case "swap": self = .swap(try SwapProcesses(from: decoder))
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "unknown action kind \(kind)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: KindKey.self)
        try container.encode(kind, forKey: .kind)
        switch self {
        case .setAffinity(let a): try a.encode(to: encoder)
        case .movePages(let a): try a.encode(to: encoder)
        case .moveRanges(let a): try a.encode(to: encoder)
        case .setObjectPolicy(let a): try a.encode(to: encoder)
        case .swap(let a): try a.encode(to: encoder)
        }
    }
}
