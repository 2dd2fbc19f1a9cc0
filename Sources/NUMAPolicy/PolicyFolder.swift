import Foundation
import NUMAModel
import NUMASystem

/// A failed change to the policy folder, in words.
public struct PolicyFolderError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public var cause: SystemError?
    init(_ description: String, cause: SystemError? = nil) {
        self.description = description
        self.cause = cause
    }
}

/// The policy folder on disk: files appear and disappear whole (write a
/// temporary file beside, fsync, rename(2), fsync the folder), so the daemon
/// never reads half a file, even after a crash.
public enum PolicyFolder {
    /// The installed name of a source file: its base name, with `.yaml` added
    /// unless it ends in `.yaml` or `.yml` (the daemon reads only those).
    public static func installedName(for source: String) -> String {
        let base = URL(fileURLWithPath: source).lastPathComponent
        return base.hasSuffix(".yaml") || base.hasSuffix(".yml") ? base : base + ".yaml"
    }

    public static func path(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// Writes `bytes` as `directory/name`, atomically, mode 0644; returns the path.
    public static func install(_ bytes: [UInt8], into directory: String, name: String) throws(PolicyFolderError) -> String {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
        } catch {
            throw PolicyFolderError("cannot create \(directory): \(error.localizedDescription)")
        }
        let target = path(directory, name)
        // A hidden name of its own (mkstemp): the daemon skips dot files, so a
        // crash leaves nothing it would read, and two installs never share one.
        let temporary: String
        let fd: Int32
        switch TemporaryFile.create(prefix: path(directory, ".\(name).")) {
        case .success(let file): (fd, temporary) = file
        case .failure(let error):
            throw PolicyFolderError("cannot create a file in \(directory): \(Errno.message(error.errno))", cause: error)
        }
        // The step that failed names the error: "cannot write", "cannot finish".
        var step = "write"
        let written = FileIO.writeAll(fd: fd, bytes, name: temporary)
            .flatMap { () -> Result<Void, SystemError> in
                step = "finish"
                return FileIO.setPermissions(fd: fd, 0o644, name: temporary)
            }
            .flatMap { FileIO.sync(fd: fd, name: temporary) }
        FileIO.close(fd)
        if case .failure(let error) = written {
            _ = FileIO.remove(temporary)
            throw PolicyFolderError("cannot \(step) \(temporary): \(Errno.message(error.errno))", cause: error)
        }
        if case .failure(let error) = FileIO.rename(temporary, to: target) {
            _ = FileIO.remove(temporary)
            throw PolicyFolderError("cannot rename \(temporary) to \(target): \(Errno.message(error.errno))", cause: error)
        }
        try syncFolder(directory)
        return target
    }

    /// Removes `directory/name` and makes the removal durable.
    public static func remove(_ name: String, from directory: String) throws(PolicyFolderError) {
        let target = path(directory, name)
        if case .failure(let error) = FileIO.remove(target, missingIsFine: false) {
            throw PolicyFolderError("cannot remove \(target): \(Errno.message(error.errno))", cause: error)
        }
        try syncFolder(directory)
    }

    /// fsync of the folder: the rename or unlink itself survives a crash.
    static func syncFolder(_ directory: String) throws(PolicyFolderError) {
        let synced = FileIO.withOpen(directory, [.readOnly, .directory]) { FileIO.sync(fd: $0, name: directory) }
        switch synced {
        case .success: return
        case .failure(let error) where error.operation.hasPrefix("open"):
            throw PolicyFolderError("cannot open \(directory): \(Errno.message(error.errno))", cause: error)
        case .failure(let error):
            throw PolicyFolderError("cannot sync \(directory): \(Errno.message(error.errno))", cause: error)
        }
    }
}

/// A file laid over the policy folder (`policy plan FILE`, `policy apply
/// FILE`): its policies, loaded already, under the name it would be
/// installed as, and the path the set lists it by.
public struct PolicyDraft: Sendable {
    public var name: String
    public var file: String
    public var policies: [Policy]

    public init(name: String, file: String, policies: [Policy]) {
        self.name = name
        self.file = file
        self.policies = policies
    }
}

extension PolicySet {
    /// The folder's policy files with `drafts` in place of those of the same
    /// name, loaded as the daemon would load the folder: in byte order of the
    /// names, as one set, every file read before failing (without a folder,
    /// the drafts in the order given). The one overlay
    /// of the daemon's start and reload, `policy plan` and `policy apply`.
    public static func load(directory: String?, drafts: [PolicyDraft], generation: UInt64 = 0,
                            topology: Topology? = nil,
                            rule: TrustedFile.Rule = .readable) throws(ConfigErrorList) -> PolicySet {
        if let directory, rule == .rootOnly, let problem = folderProblem(directory) {
            throw ConfigErrorList([ConfigError("refusing the policy folder: \(problem)",
                                               at: SourceLocation(file: directory, line: 1, column: 1))])
        }
        typealias Entry = (name: String, file: String, load: () throws(ConfigErrorList) -> [Policy])
        var entries: [Entry] = drafts.map { draft in
            (name: draft.name, file: draft.file, load: { () throws(ConfigErrorList) in draft.policies })
        }
        if let directory {
            let names: [String]
            do { names = try policyFileNames(in: directory) } catch {
                throw ConfigErrorList([ConfigError("cannot read the policy folder: \(error.localizedDescription)",
                                                   at: SourceLocation(file: directory, line: 1, column: 1))])
            }
            let replaced = Set(drafts.map(\.name))
            for name in names where !replaced.contains(name) {
                let path = PolicyFolder.path(directory, name)
                entries.append((name, path, { () throws(ConfigErrorList) in
                    try PolicyLoader.load(path: path, topology: topology, rule: rule)
                }))
            }
            entries.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        }
        // Drafts alone (no folder) keep the order they were given in.
        var policies: [Policy] = []
        var errors: [ConfigError] = []
        for entry in entries {
            do { policies += try entry.load() } catch { errors += error.errors }
        }
        // Order problems (a duplicate name, a policy behind a catch-all)
        // are told with the files' own errors, all in one list.
        errors += orderProblems(policies)
        guard errors.isEmpty else { throw ConfigErrorList(errors) }
        return try PolicySet(policies: policies, generation: generation, files: entries.map { $0.file })
    }
}
