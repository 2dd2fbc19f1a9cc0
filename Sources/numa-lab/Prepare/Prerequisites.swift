// The Debian packages the lab needs on the host, installed on first use so a
// fresh machine (or CI) needs no manual step.
import Foundation
import Glibc

enum Prerequisites {
    /// Package, and a file whose presence shows it is usable.
    static let packages: [(name: String, provides: String)] = [
        ("qemu-system-x86", "/usr/bin/qemu-system-x86_64"),
        ("busybox-static", "/bin/busybox"),
        ("numactl", "/usr/bin/numactl"),
        ("numad", "/usr/bin/numad"),
    ]

    /// Installs whatever is missing with `apt-get install -y`, running
    /// `apt-get update` first only when the package lists are empty, or after
    /// an install that failed (stale lists are the usual reason).
    static func install() throws {
        let installed = installedPackages(packages.map(\.name))
        let missing = packages.filter { !installed.contains($0.name) || !fileExists($0.provides) }
            .map(\.name)
        guard !missing.isEmpty else { return }
        guard geteuid() == 0 else {
            throw LabError("missing packages \(missing.joined(separator: " ")); run numa-lab as root once to install them, or apt-get install them")
        }
        note("installing \(missing.joined(separator: " ")) (apt-get install)")
        if !hasPackageLists() { try update() }
        do {
            try apt(["install", "-y", "-q", "--no-install-recommends"] + missing)
        } catch {
            note("apt-get install failed; updating the package lists and trying again")
            try update()
            try apt(["install", "-y", "-q", "--no-install-recommends"] + missing)
        }
    }

    static func update() throws {
        note("apt-get update")
        try apt(["update", "-q"])
    }

    /// Runs apt-get without questions; its output is shown only if it fails.
    static func apt(_ arguments: [String], directory: String? = nil) throws {
        var environment = ProcessInfo.processInfo.environment
        environment["DEBIAN_FRONTEND"] = "noninteractive"
        try Subprocess.check(["apt-get"] + arguments, directory: directory,
                             environment: environment.map { "\($0.key)=\($0.value)" })
    }

    /// Names among `names` that dpkg reports as installed ("ii").
    static func installedPackages(_ names: [String]) -> Set<String> {
        // dpkg-query exits 1 when one name is unknown, but still lists the others.
        let result = try? Subprocess.capture(["dpkg-query", "-W", "-f=${Package} ${db:Status-Abbrev}\\n"] + names)
        let lines = result?.1.split(separator: "\n") ?? []
        return Set(lines.compactMap { line -> String? in
            let fields = line.split(separator: " ")
            return fields.count >= 2 && fields[1].hasPrefix("ii") ? String(fields[0]) : nil
        })
    }

    static func hasPackageLists() -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/var/lib/apt/lists")) ?? []
        return names.contains { $0.contains("_Packages") }
    }
}
