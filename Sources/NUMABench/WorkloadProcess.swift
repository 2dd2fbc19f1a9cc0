import Foundation
import NUMASystem

/// A child started with posix_spawn (ChildProcess.spawn), stdout to `stdout`
/// when given (else inherited).
struct SpawnedChild {
    let pid: Int32

    init(_ path: String, _ arguments: [String], stdout: Int32? = nil) throws {
        switch ChildProcess.spawn(path, arguments, stdout: stdout) {
        case .success(let child): pid = child
        case .failure(let error): throw BenchError("cannot start \(path): \(Errno.message(error.errno))")
        }
    }

    /// SIGTERM, then reaps it.
    func stop() {
        _ = Host.signal(pid, Host.sigterm)
        ChildProcess.wait(pid)
    }
}

/// A numa-workload started for a benchmark: waits for its `ready pid=N`
/// line and kills it when done.
final class WorkloadProcess {
    private let child: SpawnedChild
    private(set) var pid: Int32 = 0
    /// The read end stays open until stop: a later line must not meet SIGPIPE.
    private let output: Int32

    /// numa-workload sits beside numabalance in a build folder.
    static func executable() -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("numa-workload").path
    }

    init(arguments: [String], path: String = WorkloadProcess.executable()) throws {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw BenchError("\(path) not found: build it first (swift build -c release)")
        }
        let (readEnd, writeEnd): (Int32, Int32)
        switch ChildProcess.pipe() {
        case .success(let ends): (readEnd, writeEnd) = ends
        case .failure(let error): throw BenchError("pipe: \(Errno.message(error.errno))")
        }
        output = readEnd
        do { child = try SpawnedChild(path, arguments, stdout: writeEnd) } catch {
            FileIO.close(readEnd)
            FileIO.close(writeEnd)
            throw error
        }
        FileIO.close(writeEnd)
        var buffer = Data()
        while pid == 0 {
            guard case .success(let chunk) = FileIO.readOnce(fd: output, count: 4096, name: "numa-workload's output"),
                  !chunk.isEmpty else {
                stop()
                throw BenchError("numa-workload exited before it was ready")
            }
            buffer.append(contentsOf: chunk)
            for line in String(decoding: buffer, as: UTF8.self).split(separator: "\n")
            where line.hasPrefix("ready pid=") {
                let digits = line.dropFirst("ready pid=".count).prefix { $0.isNumber }
                pid = Int32(digits) ?? 0
            }
        }
    }

    func stop() {
        child.stop()
        FileIO.close(output)
    }
}
