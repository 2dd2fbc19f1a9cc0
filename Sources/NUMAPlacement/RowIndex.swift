/// The engine's rows are flat arrays (structure of arrays: 10,000 processes
/// planned in milliseconds), indexed by three kinds of row. Each kind is a
/// type of its own, so a unit's row cannot be read with a process's index,
/// nor a node's position taken for a NodeID: a slip between them no longer
/// compiles. "None" is nil, never -1.
protocol RowIndex: Hashable, Comparable, Sendable, CustomStringConvertible {
    var row: Int { get }
    init(_ row: Int)
}

extension RowIndex {
    static func < (a: Self, b: Self) -> Bool { a.row < b.row }
    var description: String { "\(row)" }
}

/// A process's row in one round's input (RoundInput: identity order); not a
/// pid, nor its slot in EngineState.
struct ProcessIndex: RowIndex {
    let row: Int
    init(_ row: Int) { self.row = row }
}

/// A placement unit's row in UnitTable: a group (the kernel's numa_group),
/// or a process on its own.
struct UnitIndex: RowIndex {
    let row: Int
    init(_ row: Int) { self.row = row }
}

/// A node's position in the topology (NodeTable, NodeMask); not its NodeID,
/// which may have gaps. Public: the engine's state remembers nodes by it.
public struct NodeIndex: RowIndex, Codable {
    public let row: Int
    public init(_ row: Int) { self.row = row }
    public static func < (a: Self, b: Self) -> Bool { a.row < b.row }
    public var description: String { "\(row)" }
}

/// Every index of a kind below `count`, in order, without allocating.
struct IndexRange<Index: RowIndex>: Sequence {
    let count: Int

    struct Iterator: IteratorProtocol {
        var position = 0
        let end: Int
        mutating func next() -> Index? {
            guard position < end else { return nil }
            defer { position += 1 }
            return Index(position)
        }
    }

    func makeIterator() -> Iterator { Iterator(end: count) }
}

/// One value per row of one kind (per unit, per process, per node).
struct Rows<Index: RowIndex, Element> {
    private(set) var values: [Element]

    init(repeating value: Element, count: Int) { values = Array(repeating: value, count: count) }
    init(_ values: [Element]) { self.values = values }

    var count: Int { values.count }
    var indices: IndexRange<Index> { IndexRange(count: values.count) }

    subscript(index: Index) -> Element {
        // In place: a plain getter and setter would copy a row's value out and back.
        _read { yield values[index.row] }
        _modify { yield &values[index.row] }
    }

    mutating func append(_ value: Element) { values.append(value) }
    mutating func reserveCapacity(_ count: Int) { values.reserveCapacity(count) }
}

extension Rows: Sendable where Element: Sendable {}

/// A value per node for each row of one kind, in one flat array (row r,
/// node k at `r * nodeCount + k`): no allocation per row.
struct NodeRows<Index: RowIndex, Element> {
    let nodeCount: Int
    private(set) var values: [Element]

    init(repeating value: Element, rows: Int, nodeCount: Int) {
        self.nodeCount = nodeCount
        values = Array(repeating: value, count: rows * nodeCount)
    }

    /// Rows already laid out flat (another table's, shared, not copied).
    init(flat values: [Element], nodeCount: Int) {
        self.nodeCount = nodeCount
        self.values = values
    }

    subscript(index: Index, node: NodeIndex) -> Element {
        _read { yield values[index.row * nodeCount + node.row] }
        _modify { yield &values[index.row * nodeCount + node.row] }
    }

    /// Where row `index` starts in `values` (for FaultStats, which reads flat rows).
    func base(_ index: Index) -> Int { index.row * nodeCount }

    /// The row's values, one per node, without copying them.
    func row(_ index: Index) -> ArraySlice<Element> { values[base(index)..<(base(index) + nodeCount)] }

    var nodes: IndexRange<NodeIndex> { IndexRange(count: nodeCount) }
}

extension NodeRows where Element: AdditiveArithmetic {
    /// The row's sum over every node.
    func total(_ index: Index) -> Element {
        var sum = Element.zero
        for k in base(index)..<(base(index) + nodeCount) { sum += values[k] }
        return sum
    }
}
