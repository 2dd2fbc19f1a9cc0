// Issue 15, point 1 (security review 5.1): the sampler pool yielded every
// outcome into an AsyncStream nobody read (2.4 KB a round) and kept an entry
// for every pid that came and went. A daemon runs for months: its resident
// size must not grow with its rounds nor with the processes it has seen.
import Foundation
import Glibc
import Testing

@Suite struct SamplerMemoryTests {
    /// numabalance as shipped (Tests/run builds it before the tests): the
    /// debug build takes about 2 ms a sample, 150 s for these rounds.
    static let release = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build-release/release/numabalance").path

    @Test("10,000 rounds over 4 steady and 1,000 churned processes: RSS after warm-up flat within 1 MiB, no exited process remembered",
          .enabled("needs the release build: Packaging/build-release (Tests/run builds it)") {
              access(release, X_OK) == 0 || !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty
          })
    func flatOverRounds() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.release)
        process.arguments = ["bench-sampler", "--memory-rounds", "10000", "--steady", "4", "--churn", "1000"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text.suffix(2000))")
        // rss ROUND KIB REMEMBERED, every 250 rounds.
        let readings = text.split(separator: "\n").filter { $0.hasPrefix("rss ") }.compactMap { line -> (Int, Int, Int)? in
            let words = line.split(separator: " ").compactMap { Int($0) }
            return words.count == 3 ? (words[0], words[1], words[2]) : nil
        }
        try #require(readings.count == 40, "\(readings.count) readings:\n\(text.suffix(2000))")
        if let summary = text.split(separator: "\n").last { print(String(summary)) }
        // Warm-up: the first thousand rounds (the runtime's caches, the threads' stacks).
        let settled = readings.filter { $0.0 > 1000 }.map(\.1)
        let spread = settled.max()! - settled.min()!
        #expect(spread <= 1024, "RSS ranged over \(spread) KiB after round 1,000: \(settled)")
        // 4 steady and at most 4 churned alive at a time: nothing of the 996 gone.
        #expect(readings.allSatisfy { $0.2 <= 8 }, "the pool remembered \(readings.map(\.2).max()!) processes")
    }
}
