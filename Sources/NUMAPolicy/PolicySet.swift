import Foundation
import NUMAModel
import NUMASystem

/// The policies in force: the files of the policy folder in lexical order,
/// the policies of each file in file order, then the built-in default. The
/// first policy that matches a process wins. A set is built whole or not at
/// all, so a reload with a bad file keeps the old set in force.
public struct PolicySet: Sendable {
    /// Counts successful loads; the daemon shows it in `status` and metrics
    /// so an operator sees which load a decision came from.
    public let generation: UInt64
    /// The files read, in the order their policies apply.
    public let files: [String]
    public let matcher: ProcessMatcher

    public var policies: [Policy] { matcher.policies }
    /// Some policy matches on resident memory or CPU: a process's growth can change its policy.
    public var matchesOnUsage: Bool { policies.contains { $0.match.minRSSBytes != nil || $0.match.minCPU != nil } }

    /// Policies in their order of precedence; checks that names are unique
    /// and that no policy hides behind a catch-all.
    public init(policies: [Policy], generation: UInt64 = 0, files: [String] = []) throws(ConfigErrorList) {
        let problems = Self.orderProblems(policies)
        guard problems.isEmpty else { throw ConfigErrorList(problems) }
        do {
            matcher = try ProcessMatcher(policies: policies)
        } catch {
            let place = SourceLocation(file: files.first ?? "policies", line: 1, column: 1)
            throw ConfigErrorList([ConfigError(error.description, at: place, path: "match.cmdline")])
        }
        self.generation = generation
        self.files = files
    }

    /// No policy files: every process gets the built-in default.
    public static let builtin = PolicySet(matcher: ProcessMatcher(), generation: 0, files: [])

    private init(matcher: ProcessMatcher, generation: UInt64, files: [String]) {
        self.matcher = matcher
        self.generation = generation
        self.files = files
    }

    /// The policy for a process: the first that matches, else the built-in default.
    public func policy(for facts: ProcessFacts) -> Policy { matcher.policy(for: facts) }

    /// The policy, and any policy whose cmdline regex timed out on the way.
    public func match(for facts: ProcessFacts) -> MatchResult { matcher.match(for: facts) }

    /// Loads every `*.yaml` and `*.yml` file of `directory` (hidden files and
    /// editor backups skipped) in byte order of their names, as run-parts and
    /// systemd drop-ins do. A missing folder means no policies. Errors name
    /// files as `directory/name`; all files are read before failing.
    /// With `rule` .rootOnly the folder too must be root's and writable by
    /// no one else: whoever can add a file to it steers the daemon.
    public static func load(directory: String, generation: UInt64, topology: Topology? = nil,
                            rule: TrustedFile.Rule = .readable) throws(ConfigErrorList) -> PolicySet {
        try load(directory: directory, drafts: [], generation: generation, topology: topology, rule: rule)
    }

    /// Why a policy folder is not root's alone, or nil (also when missing:
    /// no folder is no policies).
    static func folderProblem(_ directory: String) -> String? {
        guard case .success(let info) = FileStatus.of(directory) else { return nil }
        return TrustedFile.ownership(info)
    }

    /// The policy files of a folder in load order; none if the folder does not exist.
    public static func policyFileNames(in directory: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "\(directory) is not a folder"])
        }
        return try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { !$0.hasPrefix(".") && ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Names used twice, and policies that can never match because a
    /// catch-all (`match: {all: true}`) comes before them: both are
    /// mistakes that would otherwise pass silently.
    public static func orderProblems(_ policies: [Policy]) -> [ConfigError] {
        var problems: [ConfigError] = []
        var firstByName: [String: Policy] = [:]
        var catchAll: Policy?
        var hidden: [Policy] = []
        for policy in policies {
            let location = policy.source ?? SourceLocation(file: "built-in", line: 0, column: 0)
            if let first = firstByName[policy.name] {
                problems.append(ConfigError("duplicate policy name \"\(policy.name)\" (first at \(place(of: first)))",
                                            at: location, path: "name"))
            } else {
                firstByName[policy.name] = policy
            }
            if catchAll != nil {
                hidden.append(policy)
            } else if policy.match.all {
                catchAll = policy
            }
        }
        if let catchAll, !hidden.isEmpty { problems.append(hiding(catchAll, hidden)) }
        return problems
    }

    /// One error at the catch-all, which is what needs to move.
    private static func hiding(_ catchAll: Policy, _ hidden: [Policy]) -> ConfigError {
        let shown = hidden.prefix(3).map { "\($0.name) (\(place(of: $0)))" }.joined(separator: ", ")
        let more = hidden.count > 3 ? " and \(hidden.count - 3) more" : ""
        let count = hidden.count == 1 ? "1 policy" : "\(hidden.count) policies"
        return ConfigError(
            "\"\(catchAll.name)\" takes every process, so the \(count) after it can never match: \(shown)\(more); "
                + "a catch-all goes last (files load in lexical order: "
                + "name its file to sort last, e.g. 99-default.yaml)",
            at: catchAll.source ?? SourceLocation(file: "built-in", line: 0, column: 0), path: "name")
    }

    private static func place(of policy: Policy) -> String {
        guard let source = policy.source else { return "built-in" }
        return "\(source)"
    }
}

/// The policy for a process no file takes: balance it, grouped with the
/// processes it shares memory with, within the daemon's budgets.
/// `Policies/default.yaml` spells out the same policy.
public enum BuiltinPolicy {
    public static let `default` = Policy(
        name: "default",
        description: "Balance every process, grouped with those it shares memory with.",
        match: {
            var match = ProcessMatch()
            match.all = true
            return match
        }(),
        placement: Placement(mode: .auto, group: .sharedMemory, spread: .pack)
    )
}
