import Foundation
import Glibc
import Testing

/// Issue 15, "Fuzzing": every input libFuzzer ever crashed a reader with
/// (Tests/fuzz/crashes/TARGET/) and every target's seeds go through the
/// plain build of numabalance-fuzz on each test run, so a crash found once
/// stays a test. The fuzzing itself is Tests/fuzz/run (instrumented, long).
@Suite struct FuzzReplayTests {
    @Test("every target reads its seeds and every crash input found so far without crashing")
    func replaySeedsAndCrashes() throws {
        let binary = try #require(SystemTestFiles.builtBinary("numabalance-fuzz"), "numabalance-fuzz is not built next to the tests (swift build --build-tests)")
        let (usageStatus, usage) = try SystemTestFiles.run(binary, ["--help"])
        #expect(usageStatus == 2)
        let targets = usage.split(separator: "\n").first { $0.hasPrefix("targets: ") }
            .map { $0.dropFirst("targets: ".count).split(separator: " ").map(String.init) } ?? []
        #expect(targets.count >= 17, "\(usage)")
        let folder = SystemTestFiles.temporaryFolder()
        defer { SystemTestFiles.remove(folder) }
        for target in targets {
            let seeds = folder + "/" + target
            try FileManager.default.createDirectory(atPath: seeds, withIntermediateDirectories: false)
            let (seedStatus, seedText) = try SystemTestFiles.run(binary, ["seeds", target, seeds])
            #expect(seedStatus == 0, "\(seedText)")
            let crashes = SystemTestFiles.root + "/Tests/fuzz/crashes/" + target
            let files = [seeds, crashes].flatMap { dir in
                ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { !$0.hasPrefix(".") }
                    .map { dir + "/" + $0 }
            }
            #expect(!files.isEmpty, "\(target): no seed")
            let (status, text) = try SystemTestFiles.run(binary, ["replay", target] + files)
            #expect(status == 0, "\(target): \(text.suffix(2000))")
            #expect(text.contains("\(files.count) input(s) read, no crash"), "\(target): \(text.suffix(500))")
        }
    }
}
