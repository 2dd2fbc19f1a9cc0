/// A set of CPU ids, kept sorted. Parses and prints the kernel's list format
/// ("0-3,8,10-11"), the format of cpulist, Cpus_allowed_list and cpuset files.
public struct CPUSet: Hashable, Sendable, Codable, Sequence, CustomStringConvertible {
    public private(set) var ids: [Int]

    public init<S: Sequence>(_ ids: S) where S.Element == Int {
        self.ids = Array(Set(ids)).sorted()
    }

    public init() { ids = [] }

    /// Ids already ascending and unique (a mask's bits, in order): no sort.
    public init(ascending ids: [Int]) {
        assert(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 }, "CPUSet(ascending:) given \(ids)")
        self.ids = ids
    }

    /// Parses the kernel's list format. An empty or all-blank string is the empty set.
    public init(listFormat text: String) throws(ListFormatError) {
        self.ids = try parseIDList(text).sorted()
    }

    public var count: Int { ids.count }
    public var isEmpty: Bool { ids.isEmpty }
    public func contains(_ cpu: Int) -> Bool { binarySearch(ids, cpu) }
    public func makeIterator() -> IndexingIterator<[Int]> { ids.makeIterator() }

    public func intersection(_ other: CPUSet) -> CPUSet { CPUSet(ids.filter(other.contains)) }
    public func union(_ other: CPUSet) -> CPUSet { CPUSet(ids + other.ids) }
    public func isSubset(of other: CPUSet) -> Bool { ids.allSatisfy(other.contains) }

    /// The kernel's list format, ranges collapsed: "0-3,8".
    public var listFormat: String { formatIDList(ids) }
    public var description: String { listFormat }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode([Int].self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(ids)
    }
}

/// A malformed kernel id list ("0-3,x").
public struct ListFormatError: Error, Equatable, CustomStringConvertible {
    public let text: String
    public var description: String { "not a kernel id list: \"\(text.prefix(80))\"" }
}

/// Above any CPU or node id a kernel can have: 8 × NR_CPUS' largest value.
public let maxListID = 1 << 16

/// Parses "0-3,8,10-11" (also with ":stride" as cgroup files may have) into ids.
public func parseIDList(_ text: String) throws(ListFormatError) -> Set<Int> {
    var result = Set<Int>()
    var listed = 0
    let trimmed = text.trimmingWhitespace()
    if trimmed.isEmpty { return result }
    for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
        let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 1 || bounds.count == 2,
              let low = Int(bounds[0]), low >= 0
        else { throw ListFormatError(text: text) }
        var high = low
        var stride = 1
        if bounds.count == 2 {
            let tail = bounds[1].split(separator: ":", omittingEmptySubsequences: false)
            guard let h = Int(tail[0]), h >= low, tail.count <= 2 else { throw ListFormatError(text: text) }
            high = h
            if tail.count == 2 {
                guard let s = Int(tail[1]), s > 0 else { throw ListFormatError(text: text) }
                stride = s
            }
        }
        // Ids beyond any real machine are garbage, not a reason to allocate:
        // Linux has at most 8,192 CPUs (NR_CPUS) and 1,024 nodes, and its
        // lists never repeat an id. (A bound per range was not enough:
        // "0-835855,7-835855" cost seconds; so would "0-65535" a thousand times.)
        listed += (high - low) / stride + 1
        guard high < maxListID, listed <= maxListID else { throw ListFormatError(text: text) }
        for id in Swift.stride(from: low, through: high, by: stride) { result.insert(id) }
    }
    return result
}

/// Prints sorted ids in the kernel's list format.
public func formatIDList(_ sorted: [Int]) -> String {
    var parts: [String] = []
    var index = 0
    while index < sorted.count {
        var end = index
        while end + 1 < sorted.count, sorted[end + 1] == sorted[end] + 1 { end += 1 }
        parts.append(end == index ? "\(sorted[index])" : "\(sorted[index])-\(sorted[end])")
        index = end + 1
    }
    return parts.joined(separator: ",")
}

func binarySearch(_ sorted: [Int], _ value: Int) -> Bool {
    var low = 0
    var high = sorted.count
    while low < high {
        let mid = (low + high) / 2
        if sorted[mid] == value { return true }
        if sorted[mid] < value { low = mid + 1 } else { high = mid }
    }
    return false
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and newlines.
    public func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }),
              let last = lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(self[first...last])
    }
}
