import Foundation

// Two builds of one program. Plain (`swift build`): `numabalance-fuzz replay
// TARGET FILE...` runs files through a target once, as FuzzReplayTests does
// with the seeds and every crash found; `seeds TARGET FOLDER` starts a corpus.
// Instrumented (Tests/fuzz/run: -DFUZZING, swiftc's fuzzer and address
// sanitizers): the entry point SwiftPM links as main hands libFuzzer's
// driver the function below, on the target NUMABALANCE_FUZZ_TARGET names.

#if FUZZING
let fuzzTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["NUMABALANCE_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: " ")
        FileHandle.standardError.write(Data("numabalance-fuzz: set NUMABALANCE_FUZZ_TARGET to one of: \(names)\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzTarget.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// What SwiftPM links as `main` for this executable (its module's entry point).
@_cdecl("numabalance_fuzz_main")
public func fuzzEntry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzOneInput(data, size) }
}
#else
@main
enum FuzzMain {
    static func main() {
        let arguments = CommandLine.arguments
        guard arguments.count >= 3, let target = FuzzTarget(rawValue: arguments[2]) else { usage() }
        switch arguments[1] {
        case "seeds" where arguments.count == 4:
            writeSeeds(target, into: arguments[3])
        case "replay":
            var count = 0
            for path in arguments.dropFirst(3) {
                guard let data = FileManager.default.contents(atPath: path) else {
                    FileHandle.standardError.write(Data("numabalance-fuzz: cannot read \(path)\n".utf8))
                    exit(1)
                }
                data.withUnsafeBytes { target.run($0) }
                count += 1
            }
            print("\(target.rawValue): \(count) input(s) read, no crash")
        default:
            usage()
        }
    }

    /// The target's seed files (paths from the repository's root) and
    /// built-in seeds, copied into a corpus folder.
    static func writeSeeds(_ target: FuzzTarget, into folder: String) {
        var written = 0
        let seeds = target.seeds.compactMap { FileManager.default.contents(atPath: $0) }
            + target.inlineSeeds.map { Data($0.utf8) }
        for (index, seed) in seeds.enumerated() {
            if FileManager.default.createFile(atPath: "\(folder)/seed-\(index)", contents: seed) { written += 1 }
        }
        print("\(target.rawValue): \(written) seed(s) in \(folder)")
    }

    static func usage() -> Never {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: " ")
        FileHandle.standardError.write(Data("""
            usage: numabalance-fuzz replay TARGET FILE...   (each file through the target once)
                   numabalance-fuzz seeds TARGET FOLDER     (the target's seeds into a corpus)
            Fuzzing is Tests/fuzz/run's instrumented build of this program.
            targets: \(names)

            """.utf8))
        exit(2)
    }
}
#endif
