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

extension DaemonReload {
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
