import Yams

/// A YAML node with the key path that reached it (`placement.nodes[1]`) and
/// its place in the file. The typed accessors report a mistake to the file's
/// `Diagnostics` and return nil, so the caller goes on to the next key.
struct YAMLValue {
    let node: Node
    let path: String
    let location: SourceLocation
    let diagnostics: Diagnostics
    /// Where the key of this value is, for errors about the key's presence
    /// ("remove memory"); nil for list elements and document roots.
    var keyLocation: SourceLocation? = nil

    /// Records an error about this value.
    func error(_ message: String) {
        diagnostics.report(message, at: location, path: path)
    }

    /// Records an error about the key itself being there.
    func errorAtKey(_ message: String) {
        diagnostics.report(message, at: keyLocation ?? location, path: path)
    }

    /// The value of `key` under this mapping. An empty value (`nodes:` and
    /// nothing after it) has no useful place of its own, so it takes the key's.
    func child(_ key: String, keyLocation: SourceLocation, node: Node) -> YAMLValue {
        let childPath = path.isEmpty ? key : "\(path).\(key)"
        var place = keyLocation
        if !isEmptyScalar(node), let mark = node.mark {
            place = diagnostics.location(line: mark.line, column: mark.column)
        }
        return YAMLValue(node: node, path: childPath, location: place, diagnostics: diagnostics,
                         keyLocation: keyLocation)
    }

    private func isEmptyScalar(_ node: Node) -> Bool {
        if case let .scalar(scalar) = node { return scalar.string.isEmpty && scalar.style == .plain }
        return false
    }

    // MARK: What the value is

    enum Kind { case mapping, list, string, integer, number, boolean, null, other }

    var kind: Kind {
        switch node {
        case .mapping: return .mapping
        case .sequence: return .list
        case let .scalar(scalar):
            switch Tag.Name(rawValue: node.tag.description) {
            case .str: return .string
            case .int: return .integer
            case .float: return .number
            case .bool: return .boolean
            case .null: return .null
            default: return scalar.style == .plain ? .other : .string
            }
        }
    }

    /// "a list", "a string (\"abc\")": what the user wrote, for "expected X, got Y".
    var kindDescription: String {
        let text = node.scalar?.string ?? ""
        switch kind {
        case .mapping: return "a mapping"
        case .list: return "a list"
        case .string: return "a string (\"\(text)\")"
        case .integer: return "an integer (\(text))"
        case .number: return "a number (\(text))"
        case .boolean: return "a boolean (\(text))"
        case .null: return "nothing"
        case .other: return "\"\(text)\""
        }
    }

    func expected(_ what: String) {
        error("expected \(what), got \(kindDescription)")
    }

    // MARK: Scalars

    /// A string. Plain numbers are taken as their text (`name: 2024`), but a
    /// plain yes/no/on/off is YAML's boolean and must be quoted to be a string.
    func string() -> String? {
        switch kind {
        case .string, .integer, .number, .other: return node.scalar?.string
        case .boolean:
            error("expected a string, got a boolean (\(node.scalar?.string ?? "")); quote it to mean the text")
            return nil
        default:
            expected("a string")
            return nil
        }
    }

    /// A string with at least one character.
    func nonEmptyString() -> String? {
        guard let text = string() else { return nil }
        if text.isEmpty { error("must not be empty") ; return nil }
        return text
    }

    func int(in range: ClosedRange<Int>? = nil) -> Int? {
        guard kind == .integer, let value = node.int else {
            expected("an integer")
            return nil
        }
        if let range, !range.contains(value) {
            error("\(value) is out of range \(Self.describe(range))")
            return nil
        }
        return value
    }

    /// A finite number; an integer is a number too.
    func double(in range: ClosedRange<Double>? = nil, what: String = "a number") -> Double? {
        guard kind == .integer || kind == .number, let value = node.float, value.isFinite else {
            expected(what)
            return nil
        }
        if let range, !range.contains(value) {
            error("\(node.scalar?.string ?? "\(value)") is out of range \(Self.describe(range))")
            return nil
        }
        return value
    }

    /// A fraction as a number (0.03125) or as a ratio of integers ("1/32").
    func fraction(in range: ClosedRange<Double>) -> Double? {
        if kind == .string || kind == .other, let text = node.scalar?.string, text.contains("/") {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let top = Int(parts[0]), let bottom = Int(parts[1]), bottom > 0 else {
                expected("a fraction such as 0.03125 or 1/32")
                return nil
            }
            let value = Double(top) / Double(bottom)
            guard range.contains(value) else {
                error("\(text) is out of range \(Self.describe(range))")
                return nil
            }
            return value
        }
        return double(in: range, what: "a fraction such as 0.03125 or 1/32")
    }

    func bool() -> Bool? {
        guard kind == .boolean, let value = node.bool else {
            expected("true or false")
            return nil
        }
        return value
    }

    /// One of a fixed set of words; a near miss gets a "did you mean".
    func choice<Value: RawRepresentable & CaseIterable>(_ type: Value.Type) -> Value? where Value.RawValue == String {
        let allowed = Value.allCases.map(\.rawValue)
        guard kind == .string || kind == .other || kind == .boolean, let text = node.scalar?.string else {
            expected("one of: \(allowed.joined(separator: ", "))")
            return nil
        }
        if let value = Value(rawValue: text) { return value }
        var message = "unknown value \"\(text)\""
        if let guess = Suggestion.closest(to: text, among: allowed) { message += "; did you mean \"\(guess)\"?" }
        error(message + " (expected one of: \(allowed.joined(separator: ", ")))")
        return nil
    }

    // MARK: Collections

    func list() -> [YAMLValue]? {
        guard case let .sequence(sequence) = node else {
            expected("a list")
            return nil
        }
        return sequence.enumerated().map { index, element in
            let mark = element.mark
            let place = mark.map { diagnostics.location(line: $0.line, column: $0.column) } ?? location
            return YAMLValue(node: element, path: "\(path)[\(index)]", location: place, diagnostics: diagnostics)
        }
    }

    /// A list whose every element reads; nil if the list or any element is bad
    /// (each bad element reported at its own place).
    func list<Element>(of read: (YAMLValue) -> Element?) -> [Element]? {
        guard let elements = list() else { return nil }
        let values = elements.map(read)
        return values.contains { $0 == nil } ? nil : values.compactMap { $0 }
    }

    static func describe<Bound: Comparable>(_ range: ClosedRange<Bound>) -> String {
        "\(range.lowerBound)…\(range.upperBound)"
    }
}
