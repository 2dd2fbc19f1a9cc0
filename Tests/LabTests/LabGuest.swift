// The lab harness: finds the built executables and the guest scripts, tells
// whether this machine can boot a guest, and runs one script in one guest
// through `numa-lab run`, keeping what it wrote under $LAB_OUT.
import Foundation
import Testing

/// The result of one guest run: numa-lab's exit code and output, and the
/// folder the script's $LAB_OUT came back to.
struct LabRun: Sendable {
    var topology: String
    var exitCode: Int32
    var stdout: String
    var stderr: String
    var outFolder: URL
    var wallSeconds: Double

    /// A file the script wrote under $LAB_OUT.
    func text(_ name: String) throws -> String {
        let url = outFolder.appendingPathComponent(name)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw LabFailure("the \(topology) guest wrote no \(name) (see \(outFolder.path))\n\(summary)")
        }
        return text
    }

    func decode<T: Decodable>(_ type: T.Type, from name: String) throws -> T {
        let text = try text(name)
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw LabFailure("\(name) from the \(topology) guest is not the expected JSON (\(error)):\n\(text)")
        }
    }

    /// A file's text for a failure message, or a note that it is missing.
    func contents(_ name: String) -> String {
        (try? String(contentsOf: outFolder.appendingPathComponent(name), encoding: .utf8)) ?? "(no \(name))"
    }

    /// The integer in a file such as `topology.rc`.
    func code(_ name: String) throws -> Int32? {
        Int32(try text(name).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// What to show when a check fails.
    var summary: String {
        "numa-lab exited \(exitCode) after \(String(format: "%.1f", wallSeconds)) s\n--- stdout\n\(stdout)--- stderr\n\(stderr)"
    }
}

struct LabFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum LabGuest {
    /// The folder of the test binary, where SwiftPM also puts numabalance,
    /// numa-lab and numa-workload.
    static let binFolder: URL = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var folder = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // On Linux the test binary is …/debug/<package>PackageTests.xctest itself;
        // on other layouts it sits inside a bundle folder: walk up to the executables.
        while folder.path != "/" && !FileManager.default.fileExists(atPath: folder.appendingPathComponent("numa-lab").path) {
            folder.deleteLastPathComponent()
        }
        return folder
    }()

    /// numabalance as shipped: Tests/run builds it with
    /// `Packaging/build-release`
    /// (the benchmarks' build). The debug daemon costs about 6.6× the CPU
    /// (26 against 3.9 CPU seconds over a 60 s pgbench run in the 2x2 guest),
    /// and on the emulator's oversubscribed host that CPU is the workload's.
    static let releaseNumabalance = scriptsFolder.deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build-release/release/numabalance")

    /// A bin folder for a guest that measures the daemon's overhead: the
    /// release numabalance, the rest (numa-workload, lab-java) from `binFolder`.
    /// Fails, saying how to build it, when the release binary is missing or
    /// older than a file of Sources/ (built from older sources). Not against
    /// the debug binary's time: SwiftPM relinks that one for a test-only
    /// change, and an up-to-date release build was then refused.
    static func releaseBinFolder() throws -> URL {
        // The other programs' own folders: a change there does not relink
        // numabalance, and its unchanged binary was refused for it.
        let notInNumabalance: Set<String> = ["numa-workload", "numa-lab", "numabalance-fuzz"]
        let files = FileManager.default
        guard files.isExecutableFile(atPath: releaseNumabalance.path) else {
            throw LabFailure("no release numabalance at \(releaseNumabalance.path): Tests/run builds it; by hand: "
                + "Packaging/build-release")
        }
        let built = { (url: URL) in (try? files.attributesOfItem(atPath: url.path)[.modificationDate] as? Date) ?? .distantPast }
        let sources = scriptsFolder.deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        let folders = (try? files.contentsOfDirectory(at: sources, includingPropertiesForKeys: nil)) ?? []
        let newest = folders.filter { !notInNumabalance.contains($0.lastPathComponent) }
            .flatMap { files.enumerator(at: $0, includingPropertiesForKeys: [.contentModificationDateKey])?.compactMap { $0 as? URL } ?? [] }
            .map(built).max() ?? .distantPast
        guard built(releaseNumabalance) >= newest else {
            throw LabFailure("the release numabalance (\(releaseNumabalance.path)) is older than Sources/: rebuild it with "
                + "Packaging/build-release")
        }
        let folder = binFolder.appendingPathComponent("lab-release-bin")
        try? files.removeItem(at: folder)
        try files.createDirectory(at: folder, withIntermediateDirectories: true)
        try files.createSymbolicLink(at: folder.appendingPathComponent("numabalance"), withDestinationURL: releaseNumabalance)
        for name in ["numa-workload", "lab-java"] {
            try files.createSymbolicLink(at: folder.appendingPathComponent(name),
                                         withDestinationURL: binFolder.appendingPathComponent(name))
        }
        return folder
    }

    /// Tests/LabTests/Scripts next to this file; the guest sees the checkout
    /// at the same path (it is not under /tmp, a tmpfs in the guest).
    static let scriptsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Scripts")

    /// The lab must run: under `Tests/run` (which sets NUMABALANCE_REQUIRE_LAB)
    /// or any CI (CI set at all: runners say "true", "1" or "yes").
    static var isRequired: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["NUMABALANCE_REQUIRE_LAB"] == "1" || !(environment["CI"] ?? "").isEmpty
    }

    /// Why the lab cannot run here, or nil when it can. numa-lab installs
    /// qemu itself, so root with apt-get is enough.
    static func unavailability() -> String? {
        guard getuid() == 0 || geteuid() == 0 else { return "the lab needs root (it installs packages and boots QEMU)" }
        let numaLab = binFolder.appendingPathComponent("numa-lab").path
        guard FileManager.default.isExecutableFile(atPath: numaLab) else {
            return "numa-lab is not built next to the tests (looked in \(binFolder.path)); run swift build first"
        }
        let hasQemu = ["/usr/bin/qemu-system-x86_64", "/usr/local/bin/qemu-system-x86_64"]
            .contains { FileManager.default.isExecutableFile(atPath: $0) }
        guard hasQemu || FileManager.default.isExecutableFile(atPath: "/usr/bin/apt-get") else {
            return "no qemu-system-x86_64 and no apt-get to install it"
        }
        return nil
    }

    /// The suite's condition: run when the lab is available; otherwise skip
    /// with the reason printed, except where it is required (Tests/run, CI):
    /// there the tests run and fail with the reason.
    static func shouldRun() -> Bool { decision }

    /// Decided (and the reason printed) once, though every test asks.
    private static let decision: Bool = {
        guard let reason = unavailability() else { return true }
        if isRequired { return true }
        print("LabTests skipped: \(reason)")
        return false
    }()

    /// Fails the calling test when the lab is unavailable (where it is required).
    static func requireAvailable() throws {
        if let reason = unavailability() {
            throw LabFailure("the lab cannot run here: \(reason) (Tests/run and CI never skip the lab)")
        }
    }

    /// The sections of a script to run (Tests/mutants' choice), or none for all.
    static var sections: [String] {
        let only = ProcessInfo.processInfo.environment["NUMABALANCE_LAB_ONLY"] ?? ""
        return only.isEmpty ? [] : [only]
    }

    /// Boots `topology`, runs `sh SCRIPT BIN_FOLDER [SECTIONS]` inside (`bin`,
    /// by default the tests' own folder), and waits.
    /// $LAB_OUT comes back to <bin>/lab-out/<topology>, kept for inspection.
    /// `outName` names the folder under <bin>/lab-out (default: the topology),
    /// so that two suites booting the same topology keep their files apart.
    static func boot(topology: String, script: String, outName: String? = nil,
                     timeoutSeconds: Int = 480, bin: URL = binFolder, labArguments: [String] = []) async throws -> LabRun {
        let name = outName ?? topology
        let out = binFolder.appendingPathComponent("lab-out").appendingPathComponent(name)
        try? FileManager.default.removeItem(at: out)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = binFolder.appendingPathComponent("numa-lab")
        process.arguments = [
            "run", "--topology", topology, "--timeout", "\(timeoutSeconds)", "--out", out.path,
            "--console", out.appendingPathComponent("console.log").path,
        ] + labArguments + [
            "--", "/bin/sh", scriptsFolder.appendingPathComponent(script).path, bin.path,
        ] + sections
        if !sections.isEmpty { print("LabTests: \(script) runs only its sections \(sections[0]) (NUMABALANCE_LAB_ONLY)") }
        let stdoutFile = out.deletingLastPathComponent().appendingPathComponent("\(name).stdout")
        let stderrFile = out.deletingLastPathComponent().appendingPathComponent("\(name).stderr")
        _ = FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: stdoutFile)
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        process.standardInput = FileHandle.nullDevice

        let started = Date()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        let run = LabRun(
            topology: topology, exitCode: process.terminationStatus,
            stdout: (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "",
            outFolder: out, wallSeconds: Date().timeIntervalSince(started))
        print("LabTests: the \(topology) guest ran \(script) in \(String(format: "%.1f", run.wallSeconds)) s (exit \(run.exitCode)); files in \(out.path)")
        return run
    }
}
