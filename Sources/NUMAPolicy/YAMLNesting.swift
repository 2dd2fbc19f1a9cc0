/// Bounds a YAML text before libyaml and Yams see it. Yams builds its tree
/// recursively: a policy nested 8,000 levels deep (16 KB of `[`) crashed
/// `policy validate`, and 20,000 levels crashed the daemon on SIGHUP and at
/// every start after. numabalance's own files nest 5 levels at most.
public enum YAMLNesting {
    /// Larger than any config or policy file needs (the examples are 2 KiB).
    public static let maxBytes = 1 << 20
    /// Deeper than any config or policy file needs, far shallower than a crash.
    public static let maxDepth = 64

    /// Where the text first nests deeper than `limit` (1-based line and
    /// column), and how deep it is there; nil when it never does.
    ///
    /// An upper bound, not a parser: each line's depth is its block
    /// indentation levels, plus the `- ` and `? ` indicators that open nested
    /// nodes on it, plus the open `[` and `{`. Quoted scalars, comments and
    /// block scalars (`|`, `>`) are skipped, so brackets inside them count
    /// for nothing, as do brackets inside a plain scalar in block context.
    static func firstTooDeep(in text: String, limit: Int = maxDepth) -> (line: Int, column: Int, depth: Int)? {
        var scanner = Scanner(limit: limit)
        for line in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if let found = scanner.next(Array(line)) { return found }
        }
        return nil
    }

    /// The state carried from line to line: the block indentations open,
    /// the flow brackets open, a quoted scalar or a block scalar going on.
    struct Scanner {
        let limit: Int
        var indents: [Int] = []
        var flow = 0
        var quote: UInt8?            // ' or " while inside a quoted scalar, across lines
        var blockScalarParent: Int?  // a | or > scalar's parent indentation
        var lineNumber = 0

        init(limit: Int) { self.limit = limit }

        /// The next line; where it nests too deep, if it does.
        mutating func next(_ bytes: [UInt8]) -> (line: Int, column: Int, depth: Int)? {
            lineNumber += 1
            let indent = bytes.prefix { $0 == UInt8(ascii: " ") }.count
            let blank = indent == bytes.count || bytes[indent] == UInt8(ascii: "\r")
            if let parent = blockScalarParent {
                if blank || indent > parent { return nil }
                blockScalarParent = nil
            }
            if quote == nil && flow == 0 {
                if blank || bytes[indent] == UInt8(ascii: "#") { return nil }
                while let top = indents.last, top >= indent { indents.removeLast() }
                indents.append(indent)
                if indents.count > limit { return (lineNumber, indent + 1, indents.count) }
            }
            return scan(bytes, indent: indent)
        }

        /// The line's indicators and brackets, from its indentation on.
        mutating func scan(_ bytes: [UInt8], indent: Int) -> (line: Int, column: Int, depth: Int)? {
            var compact = 0
            var atValue = true
            var index = indent
            func tooDeep() -> (line: Int, column: Int, depth: Int)? {
                let depth = indents.count + compact + flow
                return depth > limit ? (lineNumber, index + 1, depth) : nil
            }
            scan: while index < bytes.count {
                let byte = bytes[index]
                let next: UInt8? = index + 1 < bytes.count ? bytes[index + 1] : nil
                let spaceNext = next == nil || next == UInt8(ascii: " ") || next == UInt8(ascii: "\r")
                if let open = quote {
                    if byte == UInt8(ascii: "\\") && open == UInt8(ascii: "\"") {
                        index += 1
                    } else if byte == open {
                        if open == UInt8(ascii: "'") && next == UInt8(ascii: "'") { index += 1 } else { quote = nil; atValue = false }
                    }
                    index += 1
                    continue
                }
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                    break
                case UInt8(ascii: "#") where index == indent || bytes[index - 1] == UInt8(ascii: " "):
                    break scan
                case UInt8(ascii: "\""), UInt8(ascii: "'"):
                    if atValue || flow > 0 { quote = byte } else { atValue = false }
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    if atValue || flow > 0 {
                        flow += 1
                        atValue = true
                        if let found = tooDeep() { return found }
                    } else {
                        atValue = false
                    }
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    if flow > 0 { flow -= 1 }
                    atValue = false
                case UInt8(ascii: ","):
                    atValue = flow > 0
                case UInt8(ascii: "-"), UInt8(ascii: "?"):
                    if atValue && flow == 0 && spaceNext {
                        compact += 1
                        if let found = tooDeep() { return found }
                    } else {
                        atValue = false
                    }
                case UInt8(ascii: ":"):
                    atValue = spaceNext || flow > 0
                case UInt8(ascii: "&"), UInt8(ascii: "!"):
                    // An anchor or a tag: the value comes after it.
                    while index + 1 < bytes.count && bytes[index + 1] != UInt8(ascii: " ") { index += 1 }
                case UInt8(ascii: "|"), UInt8(ascii: ">"):
                    if atValue && flow == 0 {
                        blockScalarParent = indent
                        break scan
                    }
                    atValue = false
                default:
                    atValue = false
                }
                index += 1
            }
            return nil
        }
    }
}
