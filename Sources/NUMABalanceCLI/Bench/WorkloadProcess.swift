import Foundation

/// A numa-workload started for a benchmark: waits for its `ready pid=N`
/// line and kills it when done.
final class WorkloadProcess {
    let process = Process()
    private(set) var pid: Int32 = 0
    private let output = Pipe()

    /// numa-workload sits beside numabalance in a build folder.
    static func executable() -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("numa-workload").path
    }

    init(arguments: [String], path: String = WorkloadProcess.executable()) throws {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw CommandError("\(path) not found: build it first (swift build -c release)")
        }
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        var buffer = Data()
        let handle = output.fileHandleForReading
        while pid == 0 {
            let chunk = handle.availableData
            guard !chunk.isEmpty else { throw CommandError("numa-workload exited before it was ready") }
            buffer.append(chunk)
            for line in String(decoding: buffer, as: UTF8.self).split(separator: "\n")
            where line.hasPrefix("ready pid=") {
                let digits = line.dropFirst("ready pid=".count).prefix { $0.isNumber }
                pid = Int32(digits) ?? 0
            }
        }
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}
