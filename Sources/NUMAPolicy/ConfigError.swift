/// Where a value sits in a file: 1-based line and column, the column counted
/// in Unicode scalars (as libyaml counts them), so an editor's "go to" lands on it.
public struct SourceLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }

    /// `file:line:column`, the form compilers print and editors jump to.
    public var description: String { "\(file):\(line):\(column)" }
}

/// One problem in a config or policy file: where, which key, what is wrong.
///
/// Printed as `file:line:column: key.path: message`; the path is left out when
/// the problem is the document itself (a YAML syntax error, an empty file).
public struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    /// The key's path from the document's root, e.g. `placement.nodes[1]`.
    public var path: String
    public var message: String

    public init(_ message: String, at location: SourceLocation, path: String = "") {
        self.location = location
        self.path = path
        self.message = message
    }

    public var description: String {
        path.isEmpty ? "\(location): \(message)" : "\(location): \(path): \(message)"
    }

    /// The same error with the file named differently (e.g. relative to a folder).
    public func renamingFile(_ file: String) -> ConfigError {
        var copy = self
        copy.location.file = file
        return copy
    }
}

/// Every problem found in one load: a file is read to the end, so an operator
/// fixes all of them in one go instead of one per reload.
public struct ConfigErrorList: Error, Hashable, Sendable, CustomStringConvertible {
    /// In file order, then line and column.
    public private(set) var errors: [ConfigError]

    public init(_ errors: [ConfigError]) {
        self.errors = ConfigErrorList.ordered(errors)
    }

    public var isEmpty: Bool { errors.isEmpty }

    /// One error a line, in order.
    public var description: String { errors.map(\.description).joined(separator: "\n") }

    public mutating func append(contentsOf other: [ConfigError]) {
        errors = ConfigErrorList.ordered(errors + other)
    }

    /// Sorted by place; a stable sort, so two errors on one key keep the order
    /// in which the checks found them. Exact repeats are dropped.
    static func ordered(_ errors: [ConfigError]) -> [ConfigError] {
        var seen = Set<ConfigError>()
        let unique = errors.filter { seen.insert($0).inserted }
        return unique.enumerated()
            .sorted { ($0.element.location, $0.offset) < ($1.element.location, $1.offset) }
            .map(\.element)
    }
}
