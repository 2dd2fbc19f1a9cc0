import Foundation
import NUMASystem

/// Policies in order, their matches compiled once (regexes built), and the
/// policy that applies when none matches. Pure: facts in, policy out.
public struct ProcessMatcher: Sendable {
    public let policies: [Policy]
    public let fallback: Policy
    private let compiled: [CompiledMatch]

    /// Fails on a cmdline pattern that does not compile (the loaders report
    /// that at its line:column before a matcher is ever built).
    public init(policies: [Policy], fallback: Policy = BuiltinPolicy.default) throws(PatternError) {
        self.policies = policies
        self.fallback = fallback
        var compiled: [CompiledMatch] = []
        for policy in policies { compiled.append(try CompiledMatch(policy.match)) }
        self.compiled = compiled
    }

    /// No policies: everything gets the fallback.
    init(fallback: Policy = BuiltinPolicy.default) {
        policies = []
        self.fallback = fallback
        compiled = []
    }

    /// Whether any policy matches on `cmdline`: such a set is matched off
    /// the daemon's balancing thread (PolicyMatchThread).
    public var matchesCommandLines: Bool { compiled.contains { $0.cmdline != nil } }

    /// Longest a cmdline regex may run on one command line (seconds). ICU
    /// backtracks; a match that runs longer is stopped and counts as no
    /// match, so a pattern and a command line that blow up cannot stall the
    /// daemon's loop, which matches every process it discovers.
    public static let regexTimeLimit = 0.05

    /// The first policy, in order, that takes the process; else the fallback.
    public func policy(for facts: ProcessFacts) -> Policy { match(for: facts).policy }

    /// The position of the first matching policy, nil when none does.
    public func firstMatch(for facts: ProcessFacts) -> Int? { match(for: facts).index }

    /// The policy that takes the process, and the policies before it whose
    /// cmdline regex ran out of time (taken as not matching).
    public func match(for facts: ProcessFacts) -> MatchResult {
        var timedOut: [String] = []
        for (index, candidate) in compiled.enumerated() {
            switch candidate.matches(facts) {
            case .matched: return MatchResult(policy: policies[index], index: index, timedOut: timedOut)
            case .notMatched: continue
            case .timedOut: timedOut.append(policies[index].name)
            }
        }
        return MatchResult(policy: fallback, index: nil, timedOut: timedOut)
    }
}

/// What matching found for one process.
public struct MatchResult: Sendable {
    public var policy: Policy
    /// The policy's position among the files' policies; nil for the fallback.
    public var index: Int?
    /// Policies whose cmdline regex was stopped at its time limit.
    public var timedOut: [String]
}

/// A cmdline pattern that does not compile, and why.
public struct PatternError: Error, Hashable, Sendable, CustomStringConvertible {
    public var pattern: String
    public var reason: String
    public var description: String { "invalid regular expression \"\(pattern)\": \(reason)" }
}

/// One policy's match, ready to test processes against.
struct CompiledMatch: Sendable {
    let match: ProcessMatch
    let cmdline: NSRegularExpression?

    init(_ match: ProcessMatch) throws(PatternError) {
        self.match = match
        if let pattern = match.cmdline {
            switch Patterns.regex(pattern) {
            case let .success(regex): cmdline = regex
            case let .failure(error): throw error
            }
        } else {
            cmdline = nil
        }
    }

    enum Outcome { case matched, notMatched, timedOut }

    /// Every given criterion holds; within a list, any element.
    func matches(_ facts: ProcessFacts) -> Outcome {
        holds(facts) ? (cmdline.map { Patterns.search($0, in: facts.commandLine) } ?? .matched) : .notMatched
    }

    /// Every criterion but the regex, which runs last, being the costliest.
    private func holds(_ facts: ProcessFacts) -> Bool {
        if match.all { return true }
        if !match.comm.isEmpty, !match.comm.contains(facts.comm) { return false }
        if !match.exe.isEmpty {
            guard let exe = facts.exe, match.exe.contains(where: { Patterns.glob($0, exe, pathname: true) })
            else { return false }
        }
        if !match.user.isEmpty, !match.user.contains(where: { matchesUser($0, facts) }) { return false }
        if !match.cgroup.isEmpty {
            guard let path = facts.cgroupPath, match.cgroup.contains(where: { Patterns.cgroup($0, contains: path) })
            else { return false }
        }
        if !match.unit.isEmpty {
            let units = facts.systemdUnits.all
            guard match.unit.contains(where: { pattern in units.contains { Patterns.glob(pattern, $0) } })
            else { return false }
        }
        if let minRSS = match.minRSSBytes {
            guard let rss = facts.rssBytes, rss >= minRSS else { return false }
        }
        if let minCPU = match.minCPU {
            guard let cpu = facts.cpuShare, cpu >= minCPU else { return false }
        }
        return true
    }

    private func matchesUser(_ user: UserMatch, _ facts: ProcessFacts) -> Bool {
        switch user {
        case let .uid(uid): return uid == facts.uid
        case let .name(name): return name == facts.userName
        }
    }
}

/// The pattern languages of `match`.
enum Patterns {
    /// ICU regular expressions (NSRegularExpression: thread-safe and fast).
    /// ICU's own error says only "invalid", so Swift's regex parser, which
    /// says what is wrong, words the reason.
    static func regex(_ pattern: String) -> Result<NSRegularExpression, PatternError> {
        do {
            return .success(try NSRegularExpression(pattern: pattern))
        } catch {
            let reason: String
            do {
                _ = try Regex(pattern)
                reason = "not accepted by the ICU regex engine"
            } catch let swiftError {
                reason = "\(swiftError)"
            }
            return .failure(PatternError(pattern: pattern, reason: reason))
        }
    }

    /// Whether `regex` matches somewhere in `text`, within the time limit.
    /// ICU calls back every so often during a long match (.reportProgress),
    /// which is where the clock is read and the match stopped.
    static func search(_ regex: NSRegularExpression, in text: String,
                       timeLimit: Double = ProcessMatcher.regexTimeLimit) -> CompiledMatch.Outcome {
        var outcome = CompiledMatch.Outcome.notMatched
        let deadline = Clock.monotonicSeconds() + timeLimit
        regex.enumerateMatches(in: text, options: [.reportProgress], range: NSRange(text.startIndex..., in: text)) {
            result, _, stop in
            if result != nil {
                outcome = .matched
                stop.pointee = true
            } else if Clock.monotonicSeconds() > deadline {
                outcome = .timedOut
                stop.pointee = true
            }
        }
        return outcome
    }

    /// Shell-style `*`, `?` and `[…]` (fnmatch(3)); with `pathname`, a
    /// wildcard never crosses a `/`.
    static func glob(_ pattern: String, _ text: String, pathname: Bool = false) -> Bool {
        Glob.matches(pattern, text, pathname: pathname)
    }

    /// True when `path` is the cgroup `pattern` or below it, compared by
    /// components (so /a/b does not take /a/bc); a component may be a glob.
    static func cgroup(_ pattern: String, contains path: String) -> Bool {
        var trimmed = Substring(path)
        if trimmed.hasSuffix(" (deleted)") { trimmed = trimmed.dropLast(" (deleted)".count) }
        let want = pattern.split(separator: "/")
        let have = trimmed.split(separator: "/")
        guard want.count <= have.count else { return false }
        return zip(want, have).allSatisfy { glob(String($0), String($1)) }
    }
}
