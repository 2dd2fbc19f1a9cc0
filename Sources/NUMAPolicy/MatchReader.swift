/// Reads a policy's `match` section. Each criterion is checked where it is
/// written: a comm the kernel would truncate, a relative path, a regex that
/// does not compile, a unit name without a type are errors at that element.
enum MatchReader {
    static let keys = ["all", "comm", "exe", "cmdline", "cgroup", "user", "unit", "minRSS", "minCPU"]

    static func read(_ value: YAMLValue) -> ProcessMatch? {
        if value.kind == .null {
            value.error(emptyMessage)
            return nil
        }
        let before = value.diagnostics.errors.count
        guard let section = value.mapping(allowed: keys) else { return nil }
        var match = ProcessMatch()
        if let all = section["all"], let flag = all.bool() {
            match.all = flag
            if !flag { all.error("all: false matches nothing; remove it and give criteria") }
            let others = section.keys.filter { $0 != "all" }
            if flag, !others.isEmpty {
                all.error("all: true takes every process, so \(others.joined(separator: ", ")) would be ignored; "
                          + "remove them or remove all")
            }
        }
        match.comm = strings(section["comm"], check: PolicyValidation.commProblem) ?? []
        match.exe = strings(section["exe"], check: absolutePath("an executable path")) ?? []
        match.cgroup = strings(section["cgroup"], check: absolutePath("a cgroup path")) ?? []
        match.unit = strings(section["unit"], check: PolicyValidation.unitProblem) ?? []
        if let cmdline = section["cmdline"], let pattern = cmdline.nonEmptyString() {
            if case let .failure(problem) = Patterns.regex(pattern) {
                cmdline.error(problem.description)
            }
            match.cmdline = pattern
        }
        match.user = section["user"]?.list(of: user) ?? []
        match.minRSSBytes = section["minRSS"]?.size()
        if let minCPU = section["minCPU"], let cpus = minCPU.double(in: 0...65_536, what: "a number of CPUs") {
            if cpus == 0 { minCPU.error("minCPU: 0 matches every process; give a positive number of CPUs") }
            match.minCPU = cpus
        }
        // An empty match is an error only when nothing else was wrong with it:
        // `comn: [java]` is a misspelt key, not an empty match.
        if match.isEmpty, value.diagnostics.errors.count == before {
            value.error(emptyMessage)
            return nil
        }
        return value.diagnostics.errors.count == before ? match : nil
    }

    static let emptyMessage = "empty match: give at least one of comm, exe, cmdline, cgroup, user, unit, "
        + "minRSS, minCPU (or all: true to take every process)"

    /// A list of non-empty strings, each checked; nil when absent or bad.
    private static func strings(_ value: YAMLValue?, check: (String) -> String?) -> [String]? {
        guard let value else { return nil }
        let result = value.list { element -> String? in
            guard let text = element.nonEmptyString() else { return nil }
            if let problem = check(text) { element.error(problem); return nil }
            return text
        }
        if let result, result.isEmpty { value.error("empty list: remove the key or give at least one value") }
        return result
    }

    private static func absolutePath(_ what: String) -> (String) -> String? {
        { text in text.hasPrefix("/") ? nil : "\(what) must be absolute (start with /), got \"\(text)\"" }
    }

    /// A user name, or a uid as a number or a string of digits.
    private static func user(_ element: YAMLValue) -> UserMatch? {
        if element.kind == .integer {
            guard let uid = element.int(in: 0...Int(UInt32.max - 1)) else { return nil }
            return .uid(UInt32(uid))
        }
        guard let text = element.nonEmptyString() else { return nil }
        if text.allSatisfy(\.isASCII), let uid = UInt32(text), uid != UInt32.max { return .uid(uid) }
        if text.contains(where: { $0 == ":" || $0 == "/" || $0.isWhitespace }) {
            element.error("\"\(text)\" is not a user name")
            return nil
        }
        return .name(text)
    }
}
