/// The units config and policy files write amounts in.
///
/// - Durations: a number and a unit, `500ms`, `30s`, `2m`, `1h`, `1.5s`;
///   whole milliseconds. The unit is required: a bare `30` is ambiguous.
/// - Sizes: a number and an optional unit. `B`, `KiB`, `MiB`, `GiB`, `TiB`
///   are powers of 1024; `kB`, `MB`, `GB`, `TB` powers of 1000; no unit means
///   bytes. `64M` is refused: it is 64·10⁶ to some and 64·2²⁰ to others.
/// - Rates (`maxRateMBps`): a plain number of MiB per second (2²⁰ bytes,
///   the "MB" of numastat and the kernel's logs).
public enum Units {
    static let durationUnits: [(suffix: String, milliseconds: Double)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000),
    ]
    static let sizeUnits: [(suffix: String, bytes: Double)] = [
        ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
        ("kB", 1000), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("B", 1),
    ]

    /// `30s` → 30 seconds; the error says what is wrong and shows the form.
    public static func parseDuration(_ text: String) -> Result<Duration, UnitError> {
        guard let (number, suffix) = split(text) else {
            return .failure(UnitError("expected a duration such as 500ms, 30s, 2m or 1h, got \"\(text)\""))
        }
        guard !suffix.isEmpty else {
            return .failure(UnitError("a duration needs a unit (ms, s, m, h), e.g. \"\(text)s\""))
        }
        guard let unit = durationUnits.first(where: { $0.suffix == suffix }) else {
            return .failure(UnitError("unknown duration unit \"\(suffix)\" (use ms, s, m or h)"))
        }
        let milliseconds = number * unit.milliseconds
        guard milliseconds == milliseconds.rounded(), milliseconds < 1e15 else {
            return .failure(UnitError("a duration is a whole number of milliseconds, got \"\(text)\""))
        }
        return .success(.milliseconds(Int64(milliseconds)))
    }

    /// The shortest exact spelling: `90s` → "90s", `120s` → "2m", `0.5s` → "500ms".
    public static func format(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000
            + duration.components.attoseconds / 1_000_000_000_000_000
        for (suffix, factor) in durationUnits.reversed() where milliseconds != 0 {
            let whole = Int64(factor)
            if milliseconds % whole == 0 { return "\(milliseconds / whole)\(suffix)" }
        }
        return "\(milliseconds)ms"
    }

    /// `64MiB` → 67108864.
    public static func parseSize(_ text: String) -> Result<UInt64, UnitError> {
        guard let (number, suffix) = split(text) else {
            return .failure(UnitError("expected a size such as 512MiB or 4GiB, got \"\(text)\""))
        }
        let factor: Double
        if suffix.isEmpty {
            factor = 1
        } else if let unit = sizeUnits.first(where: { $0.suffix == suffix }) {
            factor = unit.bytes
        } else {
            let letter = suffix.prefix(1).uppercased()
            let (binary, decimal) = letter == "K" ? ("KiB", "kB") : ("\(letter)iB", "\(letter)B")
            let hint = ["K", "M", "G", "T"].contains(letter)
                ? "; write \(binary) (powers of 1024) or \(decimal) (powers of 1000)"
                : " (use B, KiB, MiB, GiB, TiB, kB, MB, GB or TB)"
            return .failure(UnitError("unknown size unit \"\(suffix)\"" + hint))
        }
        let bytes = (number * factor).rounded(.down)
        guard bytes < 1.8e19 else { return .failure(UnitError("\"\(text)\" is too large")) }
        return .success(UInt64(bytes))
    }

    /// The largest binary unit that divides exactly: 67108864 → "64MiB".
    public static func formatSize(_ bytes: UInt64) -> String {
        for (suffix, factor) in sizeUnits.prefix(4).reversed() where bytes != 0 {
            let whole = UInt64(factor)
            if bytes % whole == 0 { return "\(bytes / whole)\(suffix)" }
        }
        return "\(bytes)B"
    }

    /// A non-negative decimal number and what follows it, or nil when the
    /// text does not start with one.
    private static func split(_ text: String) -> (Double, String)? {
        let digits = text.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard !digits.isEmpty, digits.filter({ $0 == "." }).count <= 1, digits.first != ".",
              digits.last != ".", let number = Double(digits)
        else { return nil }
        return (number, String(text.dropFirst(digits.count)))
    }
}

/// Why an amount did not parse, in words for the operator.
public struct UnitError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension YAMLValue {
    func duration(in range: ClosedRange<Duration>? = nil) -> Duration? {
        guard let text = unitText("a duration such as 30s") else { return nil }
        switch Units.parseDuration(text) {
        case let .failure(problem):
            error(problem.description)
            return nil
        case let .success(value):
            if let range, !range.contains(value) {
                error("\(text) is out of range \(Units.format(range.lowerBound))…\(Units.format(range.upperBound))")
                return nil
            }
            return value
        }
    }

    /// A size in bytes; a plain integer is bytes.
    func size() -> UInt64? {
        if kind == .integer, let value = node.int {
            guard value >= 0 else { error("a size cannot be negative"); return nil }
            return UInt64(value)
        }
        guard let text = unitText("a size such as 512MiB") else { return nil }
        switch Units.parseSize(text) {
        case let .failure(problem): error(problem.description); return nil
        case let .success(value): return value
        }
    }

    /// A migration rate in MiB/s: a positive number. Zero is refused: the
    /// way to say "no moves" (`zeroHint`) says it plainly.
    func rate(zeroHint: String = "to stop memory moves write memory.migrate: false") -> Double? {
        guard let value = double(what: "a rate in MiB/s (a number)") else { return nil }
        guard value > 0 else {
            error("a rate must be positive (MiB/s), got \(node.scalar?.string ?? "\(value)"); \(zeroHint)")
            return nil
        }
        return value
    }

    private func unitText(_ what: String) -> String? {
        guard kind == .string || kind == .other, let text = node.scalar?.string else {
            if kind == .integer || kind == .number, what.contains("duration") {
                error("a duration needs a unit (ms, s, m, h), e.g. \(node.scalar?.string ?? "")s")
            } else {
                expected(what)
            }
            return nil
        }
        if text.hasPrefix("-") { error("cannot be negative, got \"\(text)\""); return nil }
        return text
    }
}
