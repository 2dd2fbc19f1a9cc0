import Yams

/// A mapping whose keys were checked: every key a string, none repeated, none
/// outside the allowed set. Reading it by key gives `YAMLValue`s with the key
/// path extended.
struct YAMLMapping {
    let value: YAMLValue
    private var entries: [String: YAMLValue] = [:]
    /// Keys in file order, as written.
    private(set) var keys: [String] = []

    fileprivate init(value: YAMLValue) { self.value = value }

    var location: SourceLocation { value.location }
    var path: String { value.path }
    var isEmpty: Bool { keys.isEmpty }

    subscript(key: String) -> YAMLValue? { entries[key] }

    func has(_ key: String) -> Bool { entries[key] != nil }

    /// The value of a key that must be there; reports it missing otherwise.
    func required(_ key: String, hint: String = "") -> YAMLValue? {
        if let found = entries[key] { return found }
        value.diagnostics.report("missing key \"\(key)\"" + hint, at: location, path: path)
        return nil
    }

    fileprivate mutating func add(_ key: String, _ child: YAMLValue) {
        keys.append(key)
        entries[key] = child
    }
}

extension YAMLValue {
    /// This value as a mapping whose keys are all in `allowed` (listed in the
    /// order the documentation gives them). An unknown key, a repeated key or
    /// a key that is not a string is reported at the key, and left out.
    func mapping(allowed: [String]) -> YAMLMapping? {
        guard case let .mapping(pairs) = node else {
            expected("a mapping")
            return nil
        }
        var result = YAMLMapping(value: self)
        var firstSeen: [String: SourceLocation] = [:]
        for (keyNode, valueNode) in pairs {
            let keyLocation = keyNode.mark.map { diagnostics.location(line: $0.line, column: $0.column) } ?? location
            guard case let .scalar(scalar) = keyNode else {
                diagnostics.report("a key must be a plain word, not a list or mapping", at: keyLocation, path: path)
                continue
            }
            let key = scalar.string
            let keyPath = path.isEmpty ? key : "\(path).\(key)"
            if let first = firstSeen[key] {
                diagnostics.report("duplicate key \"\(key)\" (first at \(first.line):\(first.column))",
                                   at: keyLocation, path: keyPath)
                continue
            }
            firstSeen[key] = keyLocation
            guard allowed.contains(key) else {
                diagnostics.report(Self.unknownKeyMessage(key, allowed: allowed), at: keyLocation, path: keyPath)
                continue
            }
            result.add(key, child(key, keyLocation: keyLocation, node: valueNode))
        }
        return result
    }

    static func unknownKeyMessage(_ key: String, allowed: [String]) -> String {
        var message = "unknown key \"\(key)\""
        if let guess = Suggestion.closest(to: key, among: allowed) { message += "; did you mean \"\(guess)\"?" }
        return message + " (allowed: \(allowed.joined(separator: ", ")))"
    }
}

/// "Did you mean": the allowed word nearest to a misspelling, by edit distance.
enum Suggestion {
    /// The closest candidate within a third of the word's length (at least 1,
    /// at most 3 edits), comparing without case so `MaxRateMBps` finds
    /// `maxRateMBps`. Nil when nothing is that close: a wild guess misleads.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let limit = min(3, max(1, word.count / 3))
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(word.lowercased(), candidate.lowercased())
            if distance <= limit, distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    /// Levenshtein distance, with a transposition counting as one edit
    /// (optimal string alignment), since swapped letters are the common typo.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, previous2[j - 2] + 1)
                }
                current[j] = value
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
