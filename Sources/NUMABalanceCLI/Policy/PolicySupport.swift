import ArgumentParser
import Foundation
import NUMADaemon
import NUMAModel
import NUMAPolicy
import NUMASystem

/// Words for policies, shared by `policy plan` and `policy list`.
enum PolicyText {
    /// "pin → node 0", "pin → node 2 (threads on node 0)", "interleave → all nodes with memory", "auto".
    static func mode(_ placement: Placement) -> String {
        let mode = placement.mode.rawValue
        guard let nodes = placement.nodes else { return mode }
        var text = "\(mode) → " + self.nodes(nodes)
        if let cpu = placement.cpuNodes { text += " (threads on \(self.nodes(.list(cpu))))" }
        return text
    }

    static func nodes(_ choice: NodeChoice) -> String {
        switch choice {
        case .all: return "all nodes with memory"
        case .list(let list): return (list.count == 1 ? "node " : "nodes ") + NodeList.format(list)
        }
    }

    /// "comm redis-server; cgroup /latency.slice", "all (catch-all)".
    static func match(_ match: ProcessMatch) -> String {
        if match.all { return "all (catch-all)" }
        var parts: [String] = []
        if !match.comm.isEmpty { parts.append("comm " + match.comm.joined(separator: ",")) }
        if !match.exe.isEmpty { parts.append("exe " + match.exe.joined(separator: ",")) }
        if let cmdline = match.cmdline { parts.append("cmdline /\(cmdline)/") }
        if !match.cgroup.isEmpty { parts.append("cgroup " + match.cgroup.joined(separator: ",")) }
        if !match.user.isEmpty { parts.append("user " + match.user.map(\.description).joined(separator: ",")) }
        if !match.unit.isEmpty { parts.append("unit " + match.unit.joined(separator: ",")) }
        if let rss = match.minRSSBytes { parts.append("minRSS \(Output.bytes(rss))") }
        if let cpu = match.minCPU { parts.append("minCPU \(cpu)") }
        return parts.joined(separator: "; ")
    }

    /// "1 process", "3 processes".
    static func count(_ n: Int, _ word: String, plural: String? = nil) -> String {
        n == 1 ? "1 \(word)" : "\(n) \(plural ?? word + "s")"
    }
}

/// The daemon's folders, from --config (or the default config file) unless
/// given on the command line.
struct PolicyFolders {
    var policyDirectory: String
    var runtimeDirectory: String

    /// `needsRuntime` false: the runtime folder is not used, so only a
    /// missing policy folder makes the config be read.
    static func resolve(config: String?, policyDir: String?, runtimeDir: String?,
                        needsRuntime: Bool = true) throws -> PolicyFolders {
        var loaded = DaemonConfig()
        if policyDir == nil || (needsRuntime && runtimeDir == nil) {
            do { loaded = try DaemonConfig.load(path: config).config } catch {
                FileHandle.standardError.write(Data((error.description + "\n").utf8))
                throw ExitCode(1)
            }
        }
        return PolicyFolders(policyDirectory: policyDir ?? loaded.policyDirectory,
                             runtimeDirectory: runtimeDir ?? loaded.runtimeDirectory)
    }
}

/// The policy folder on disk: files appear and disappear whole (write a
/// temporary file beside, fsync, rename(2), fsync the folder), so the daemon
/// never reads half a file, even after a crash.
enum PolicyFolder {
    /// The installed name of a source file: its base name, with `.yaml` added
    /// unless it ends in `.yaml` or `.yml` (the daemon reads only those).
    static func installedName(for source: String) -> String {
        let base = URL(fileURLWithPath: source).lastPathComponent
        return base.hasSuffix(".yaml") || base.hasSuffix(".yml") ? base : base + ".yaml"
    }

    static func path(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// Writes `data` as `directory/name`, atomically, mode 0644; returns the path.
    static func install(_ data: Data, into directory: String, name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        let target = path(directory, name)
        // A hidden name of its own (mkstemp): the daemon skips dot files, so a
        // crash leaves nothing it would read, and two installs never share one.
        let temporary: String
        let fd: Int32
        switch TemporaryFile.create(prefix: path(directory, ".\(name).")) {
        case .success(let file): (fd, temporary) = file
        case .failure(let error):
            throw CommandError("cannot create a file in \(directory): \(Errno.message(error.errno))")
        }
        var ok = false
        defer {
            if !ok { _ = FileIO.remove(temporary) }
        }
        if case .failure(let error) = FileIO.writeAll(fd: fd, [UInt8](data), name: temporary) {
            FileIO.close(fd)
            throw CommandError("cannot write \(temporary): \(Errno.message(error.errno))")
        }
        let finished = FileIO.setPermissions(fd: fd, 0o644, name: temporary)
            .flatMap { FileIO.sync(fd: fd, name: temporary) }
        FileIO.close(fd)
        if case .failure(let error) = finished {
            throw CommandError("cannot finish \(temporary): \(Errno.message(error.errno))")
        }
        if case .failure(let error) = FileIO.rename(temporary, to: target) {
            throw CommandError("cannot rename \(temporary) to \(target): \(Errno.message(error.errno))")
        }
        ok = true
        try syncFolder(directory)
        return target
    }

    /// Removes `directory/name` and makes the removal durable.
    static func remove(_ name: String, from directory: String) throws {
        let target = path(directory, name)
        if case .failure(let error) = FileIO.remove(target, missingIsFine: false) {
            throw CommandError("cannot remove \(target): \(Errno.message(error.errno))")
        }
        try syncFolder(directory)
    }

    /// fsync of the folder: the rename or unlink itself survives a crash.
    static func syncFolder(_ directory: String) throws {
        let synced = FileIO.withOpen(directory, [.readOnly, .directory]) { FileIO.sync(fd: $0, name: directory) }
        switch synced {
        case .success: return
        case .failure(let error) where error.operation.hasPrefix("open"):
            throw CommandError("cannot open \(directory): \(Errno.message(error.errno))")
        case .failure(let error):
            throw CommandError("cannot sync \(directory): \(Errno.message(error.errno))")
        }
    }
}

/// Asking a running daemon to read its policy folder again, and checking it did.
enum DaemonReload {
    enum Outcome {
        /// The new set is in force.
        case active(ReloadReply)
        /// No daemon listens: the files are read when it starts.
        case noDaemon(String)
        /// The daemon refused the set (it keeps the old one).
        case refused(ReloadReply)
        /// The daemon reloaded, but its set does not look as expected (another folder?).
        case unexpected(ReloadReply, String)
        /// The daemon could not be asked (permission, timeout).
        case unreachable(String)
    }

    /// `expectPresent` must be among the daemon's files after the reload, `expectAbsent` not.
    static func reload(runtimeDirectory: String, expectPresent: [String] = [],
                       expectAbsent: [String] = []) -> Outcome {
        let client = ControlClient(runtimeDirectory: runtimeDirectory)
        guard FileManager.default.fileExists(atPath: client.socketPath) else {
            return .noDaemon("no numabalance daemon is running (no control socket at \(client.socketPath))")
        }
        let reply: ReloadReply
        do { reply = try client.reload() } catch {
            if error.description.hasPrefix("no numabalance daemon is running") { return .noDaemon(error.description) }
            return .unreachable(error.description)
        }
        guard reply.ok else { return .refused(reply) }
        let files = Set(reply.policyFiles.map(canonical))
        let missing = expectPresent.filter { !files.contains(canonical($0)) }
        let stale = expectAbsent.filter { files.contains(canonical($0)) }
        if !missing.isEmpty {
            return .unexpected(reply, "the daemon reloaded but does not read \(missing.joined(separator: ", ")): "
                + "its policy folder is another (see `numabalance config check`)")
        }
        if !stale.isEmpty {
            return .unexpected(reply, "the daemon reloaded but still reads \(stale.joined(separator: ", "))")
        }
        return .active(reply)
    }

    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// Prints the outcome; returns the exit status (0 in force or no daemon, 1 otherwise).
    static func report(_ outcome: Outcome, installedWhat: String) -> Int32 {
        switch outcome {
        case .active(let reply):
            let names = reply.policyFiles.map { URL(fileURLWithPath: $0).lastPathComponent }
            print("policy generation \(reply.generation) active: "
                  + (names.isEmpty ? "no files (built-in default only)" : names.joined(separator: ", ")))
            return 0
        case .noDaemon(let why):
            print("\(installedWhat); \(why): the daemon will read them when it starts")
            return 0
        case .refused(let reply):
            FileHandle.standardError.write(Data((reply.errors.joined(separator: "\n") + "\n").utf8))
            FileHandle.standardError.write(Data(("\(installedWhat), but the daemon refused the new set and keeps "
                + "its previous policies (generation \(reply.generation))\n").utf8))
            return 1
        case .unexpected(let reply, let why):
            FileHandle.standardError.write(Data("\(installedWhat); \(why) (generation \(reply.generation))\n".utf8))
            return 1
        case .unreachable(let why):
            FileHandle.standardError.write(Data("\(installedWhat), but the daemon could not be asked to reload: \(why)\n".utf8))
            return 1
        }
    }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
