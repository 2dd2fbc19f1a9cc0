import Foundation

/// Asking a running daemon to read its policy folder again, and checking it did.
public enum DaemonReload {
    public enum Outcome: Sendable {
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
    public static func reload(runtimeDirectory: String, expectPresent: [String] = [],
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
}
