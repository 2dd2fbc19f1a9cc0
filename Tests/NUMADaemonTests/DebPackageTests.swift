import Foundation
import Glibc
import NUMAModel
import Testing
@testable import NUMAPolicy

/// Issue 18: the package an operator installs. The .deb is the one
/// `Packaging/deb` built (Tests/run builds it before the tests); the man
/// pages written by hand are checked against the keys the loaders read.
@Suite struct DebPackageTests {
    static let folder = SystemTestFiles.root + "/.build-deb"

    /// The newest .deb Packaging/deb left, if any.
    static let deb: String? = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasPrefix("numabalance_") && $0.hasSuffix(".deb") }.sorted().last.map { folder + "/" + $0 }
    }()

    static let required = geteuid() == 0 || !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty

    /// Output and exit status of a command found on PATH.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try SystemTestFiles.run("/usr/bin/env", arguments)
    }

    @Test(.enabled("no .deb in .build-deb: run Packaging/deb (Tests/run does)") { deb != nil || required })
    func packageHoldsWhatAnOperatorExpects() throws {
        let deb = try #require(Self.deb, "no .deb in \(Self.folder): Tests/run runs Packaging/deb first")
        let fields = try Self.run(["dpkg-deb", "-f", deb, "Package", "Version", "Architecture", "Depends"]).output
        #expect(fields.contains("Package: numabalance") && fields.contains("Version: \(NumaBalanceVersion.string)"))
        #expect(fields.contains("libnuma1") && fields.contains("libcap2"), "\(fields)")
        #expect(!fields.contains("swift"), "a Swift runtime package in Depends: \(fields)")
        let listing = try Self.run(["dpkg-deb", "-c", deb]).output
        let paths = Set(listing.split(separator: "\n").compactMap { $0.split(separator: " ").last.map { String($0.drop { $0 == "." }) } })
        for expected in [
            "/usr/sbin/numabalance", "/lib/systemd/system/numabalance.service", "/etc/numabalance/numabalance.yaml",
            "/etc/numabalance/policies.d/", "/usr/share/doc/numabalance/copyright",
            "/usr/share/doc/numabalance/examples/policies/99-default.yaml",
            "/usr/share/doc/numabalance/examples/policies/50-postgresql.yaml",
            "/usr/share/man/man8/numabalance.8.gz", "/usr/share/man/man8/numabalance-rebalance.8.gz",
            "/usr/share/man/man8/numabalance-run.8.gz", "/usr/share/man/man5/numabalance.yaml.5.gz",
            "/usr/share/man/man5/numabalance-policy.5.gz", "/usr/share/bash-completion/completions/numabalance",
            "/usr/share/zsh/vendor-completions/_numabalance", "/usr/share/fish/vendor_completions.d/numabalance.fish",
        ] {
            #expect(paths.contains(expected), "\(expected) is not in the package")
        }
        #expect(!paths.contains { $0.contains("bench-") }, "a developer's benchmark has a man page")
        let conffiles = try Self.run(["dpkg-deb", "-I", deb, "conffiles"]).output
        #expect(conffiles.split(separator: "\n").contains("/etc/numabalance/numabalance.yaml"), "\(conffiles)")
        let unit = try Self.run(["sh", "-c", "dpkg-deb --fsys-tarfile '\(deb)' | tar -xOf - ./lib/systemd/system/numabalance.service"]).output
        #expect(unit.contains("ExecStart=/usr/sbin/numabalance run\n") && unit.contains("Documentation=man:numabalance(8)"))
    }

    /// Self-contained: no Swift library is loaded, and it runs with
    /// /opt/swift hidden (a tmpfs over it in a mount namespace of its own).
    @Test(.enabled("needs root (a mount namespace) and the .deb") { (deb != nil && geteuid() == 0) || required })
    func binaryRunsWithoutTheSwiftToolchain() throws {
        let deb = try #require(Self.deb, "no .deb in \(Self.folder)")
        let root = SystemTestFiles.temporaryFolder()
        defer { SystemTestFiles.remove(root) }
        #expect(try Self.run(["dpkg-deb", "-x", deb, root]).status == 0)
        let binary = root + "/usr/sbin/numabalance"
        let ldd = try Self.run(["ldd", binary]).output
        #expect(!ldd.contains("swift") && !ldd.contains("Foundation") && !ldd.contains("dispatch"), "\(ldd)")
        #expect(ldd.contains("libnuma") && ldd.contains("libcap"), "\(ldd)")
        let hidden = try Self.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                                   "mount -t tmpfs none /opt/swift && ls /opt/swift | wc -l && '\(binary)' --version"])
        #expect(hidden.status == 0 && hidden.output == "0\n\(NumaBalanceVersion.string)\n", "\(hidden)")
    }

    /// numabalance.yaml(5) describes every key `config check` prints.
    @Test func configManPageNamesEveryKey() throws {
        let page = try #require(SystemTestFiles.text(SystemTestFiles.root + "/Packaging/man/numabalance.yaml.5"))
        let keys = DaemonConfig().settings.keys.sorted()
        #expect(keys.count >= 20)
        let missing = keys.filter { !page.contains(".B \($0)") && !page.contains("\\fB\($0)") }
        #expect(missing.isEmpty, "not in numabalance.yaml(5): \(missing)")
    }

    /// numabalance-policy(5) describes every key the policy loader reads.
    @Test func policyManPageNamesEveryKey() throws {
        let page = try #require(SystemTestFiles.text(SystemTestFiles.root + "/Packaging/man/numabalance-policy.5"))
        let keys = PolicyLoader.topKeys + MatchReader.keys.map { "match." + $0 }
            + PlacementReader.keys.map { "placement." + $0 } + RulesReader.memoryKeys.map { "memory." + $0 }
            + RulesReader.samplingKeys.map { "sampling." + $0 } + RulesReader.balancingKeys.map { "balancing." + $0 }
        let missing = keys.filter { !page.contains(".B \($0)") && !page.contains("\\fB\($0)") && !page.contains(".BR \($0)") }
        #expect(missing.isEmpty, "not in numabalance-policy(5): \(missing)")
    }
}
