import NUMAModel

/// Loads policy files: YAML documents separated by `---`, one policy each,
/// in file order. A file is read to the end and every problem reported with
/// file:line:column and the key's path; any problem fails the whole file.
public enum PolicyLoader {
    static let topKeys = ["apiVersion", "kind", "name", "description", "match", "placement",
                          "memory", "sampling", "balancing"]

    /// The policies of the file at `path`. `displayName` is how errors name
    /// the file (default: `path`). With a topology, nodes are checked against
    /// it; `rule` says whose file it may be (TrustedFile).
    public static func load(path: String, displayName: String? = nil, topology: Topology? = nil,
                            rule: TrustedFile.Rule = .readable) throws(ConfigErrorList) -> [Policy] {
        let diagnostics = Diagnostics(file: displayName ?? path)
        guard let text = YAMLDocument.readText(path: path, rule: rule, diagnostics: diagnostics) else {
            throw ConfigErrorList(diagnostics.errors)
        }
        return try load(text: text, diagnostics: diagnostics, topology: topology)
    }

    /// The policies of YAML `text`, errors naming it `file`.
    public static func load(text: String, file: String, topology: Topology? = nil) throws(ConfigErrorList) -> [Policy] {
        try load(text: text, diagnostics: Diagnostics(file: file), topology: topology)
    }

    private static func load(text: String, diagnostics: Diagnostics,
                             topology: Topology?) throws(ConfigErrorList) -> [Policy] {
        var policies: [Policy] = []
        var names: [String: SourceLocation] = [:]
        let documents = YAMLDocument.documents(in: text, diagnostics: diagnostics)
        for document in documents where document.kind != .null {
            guard let (policy, nameValue) = read(document, topology: topology) else { continue }
            if let first = names[policy.name] {
                nameValue.error("duplicate policy name \"\(policy.name)\" (first at \(first.line):\(first.column))")
                continue
            }
            names[policy.name] = nameValue.location
            policies.append(policy)
        }
        for error in PolicySet.orderProblems(policies) {
            diagnostics.report(error.message, at: error.location, path: error.path)
        }
        if diagnostics.errors.isEmpty, policies.isEmpty {
            diagnostics.report("no policy in this file (a policy starts with apiVersion: \(Policy.apiVersion))",
                               at: diagnostics.location(line: 1, column: 1), path: "")
        }
        guard diagnostics.errors.isEmpty else { throw ConfigErrorList(diagnostics.errors) }
        return policies
    }

    /// One document; nil when anything in it is wrong (reported). Returns the
    /// name's value too, for the duplicate check.
    private static func read(_ document: YAMLValue, topology: Topology?) -> (Policy, YAMLValue)? {
        let before = document.diagnostics.errors.count
        guard let top = document.mapping(allowed: topKeys) else { return nil }
        checkHeader(top)
        let nameValue = top.required("name")
        let name = nameValue?.nonEmptyString()
        if let nameValue, let name, let problem = PolicyValidation.nameProblem(name) { nameValue.error(problem) }
        let description = top["description"]?.string()
        let match = top.required("match").flatMap(MatchReader.read)
        let placement = top.required("placement").flatMap { PlacementReader.read($0, topology: topology) }
        // The mode as written, even when the rest of placement is wrong, so
        // the other sections are still checked against it.
        let mode = placement?.mode ?? top["placement"]?.node["mode"]?.string.flatMap(PlacementPolicyMode.init)
        if mode == .ignore {
            for key in ["memory", "sampling", "balancing"] {
                top[key]?.errorAtKey("mode ignore leaves the process alone (not even sampled); remove \(key)")
            }
        }
        let memory = top["memory"].flatMap { RulesReader.memory($0, mode: mode) } ?? MemoryRules()
        let sampling = top["sampling"].flatMap(RulesReader.sampling) ?? SamplingRules()
        let balancing = top["balancing"].flatMap { RulesReader.balancing($0, mode: mode) } ?? BalancingRules()
        guard document.diagnostics.errors.count == before, let nameValue, let name, let match, let placement
        else { return nil }
        let policy = Policy(name: name, description: description, match: match, placement: placement,
                            memory: memory, sampling: sampling, balancing: balancing, source: nameValue.location)
        return (policy, nameValue)
    }

    /// `apiVersion` and `kind` first, so a config file or a future version
    /// handed to the policy loader says so plainly.
    private static func checkHeader(_ top: YAMLMapping) {
        let header = " (a policy starts with apiVersion: \(Policy.apiVersion) and kind: \(Policy.kind))"
        if let version = top.required("apiVersion", hint: header), let text = version.string(),
           text != Policy.apiVersion {
            let hint = text.hasPrefix("numabalance/") ? " (this numabalance reads \(Policy.apiVersion))"
                : " (expected \(Policy.apiVersion))"
            version.error("unsupported apiVersion \"\(text)\"" + hint)
        }
        if let kind = top.required("kind", hint: header), let text = kind.string(), text != Policy.kind {
            var message = "expected kind \"\(Policy.kind)\", got \"\(text)\""
            if let guess = Suggestion.closest(to: text, among: [Policy.kind]), guess != text {
                message += "; did you mean \"\(guess)\"?"
            }
            kind.error(message)
        }
    }
}
