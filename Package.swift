// swift-tools-version: 6.1
import PackageDescription

// The direction of imports is fixed: NUMAModel at the bottom, the engine
// (NUMAPlacement) pure, everything that touches the kernel behind a protocol,
// the executables thin. See ../shared/DESIGN.md.
let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "numabalance",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "numabalance", targets: ["numabalance"]),
        .executable(name: "numa-workload", targets: ["numa-workload"]),
        .executable(name: "numa-lab", targets: ["numa-lab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        // The daemon: services and signals, logging, metrics in Prometheus' text format.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
    ],
    targets: [
        // C libraries from Debian: libnuma-dev and libcap-dev.
        .systemLibrary(
            name: "CNUMA",
            pkgConfig: "numa",
            providers: [.apt(["libnuma-dev", "libcap-dev"])]
        ),
        // What Glibc's Swift module does not give: CPU_SET macros, raw syscalls.
        .target(
            name: "CLinux",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        .target(name: "NUMAModel", swiftSettings: strict),
        // The one Swift target of the product that calls libc, CLinux or CNUMA:
        // syscalls with EINTR retried, one error type, files, clocks, threads.
        .target(name: "NUMASystem", dependencies: ["NUMAModel", "CLinux", "CNUMA"], swiftSettings: strict),
        .target(name: "NUMAProc", dependencies: ["NUMAModel", "NUMASystem"], swiftSettings: strict),
        .target(
            name: "NUMATopology",
            dependencies: ["NUMAModel", "NUMAProc", "NUMASystem"],
            swiftSettings: strict
        ),
        // Capabilities with libcap: which ones we hold, naming a missing one, dropping the rest.
        .target(name: "NUMAPrivileges", dependencies: ["NUMAModel", "NUMAProc", "NUMASystem"], swiftSettings: strict),
        .target(
            name: "NUMASampling",
            dependencies: ["NUMAModel", "NUMAProc", "NUMASystem", "NUMAPrivileges"],
            swiftSettings: strict
        ),
        // One YAML loader (file:line:column errors, key paths) for the config and the policies.
        .target(
            name: "NUMAPolicy",
            dependencies: ["NUMAModel", "NUMAProc", "NUMASystem", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        .target(
            name: "NUMAActuation",
            dependencies: ["NUMAModel", "NUMAProc", "NUMASystem"],
            swiftSettings: strict
        ),
        .target(name: "NUMAPlacement", dependencies: ["NUMAModel"], swiftSettings: strict),
        .target(
            name: "NUMASimulation",
            dependencies: ["NUMAModel", "NUMAPlacement"],
            swiftSettings: strict
        ),
        // `numabalance run`: samplers → engine → actuator as a long-running service under systemd.
        .target(
            name: "NUMADaemon",
            dependencies: [
                "NUMAModel", "NUMAProc", "NUMASystem", "NUMATopology", "NUMASampling", "NUMAPrivileges",
                "NUMAPlacement", "NUMAActuation", "NUMAPolicy", "NUMABalancing",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        // One balancing round's steps, shared by the daemon's loop and the
        // one-shot (`rebalance`): observe, annotate, plan, act, journal.
        .target(
            name: "NUMABalancing",
            dependencies: [
                "NUMAModel", "NUMAProc", "NUMASystem", "NUMATopology", "NUMASampling", "NUMAPrivileges",
                "NUMAPlacement", "NUMAActuation", "NUMAPolicy",
            ],
            swiftSettings: strict
        ),
        // The developers' benchmarks (bench-sampler, bench-engine): numabalance
        // subcommands hidden from the operator's --help.
        .target(
            name: "NUMABench",
            dependencies: [
                "NUMAModel", "NUMAProc", "NUMASystem", "NUMATopology", "NUMASampling", "NUMAPlacement", "NUMASimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "NUMABalanceCLI",
            dependencies: [
                "NUMAModel", "NUMAProc", "NUMASystem", "NUMATopology", "NUMASampling",
                "NUMAPlacement", "NUMASimulation", "NUMAActuation", "NUMAPolicy", "NUMADaemon", "NUMABalancing", "NUMABench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "numabalance", dependencies: ["NUMABalanceCLI"], swiftSettings: strict),
        .executableTarget(
            name: "numa-workload",
            dependencies: [
                "CNUMA", "CLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // Every reader of hostile text under libFuzzer (Tests/fuzz), or replaying files.
        .executableTarget(
            name: "numabalance-fuzz",
            dependencies: ["NUMAModel", "NUMAProc", "NUMAPolicy", "NUMADaemon"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "numa-lab",
            dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),

        .testTarget(name: "NUMAProcTests", dependencies: ["NUMAProc", "NUMAModel"],
                    resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "NUMATopologyTests", dependencies: ["NUMATopology", "NUMAModel"],
                    resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "NUMASamplingTests",
                    dependencies: ["NUMASampling", "NUMAModel", "NUMAProc", "NUMASystem", "NUMABalanceCLI"],
                    swiftSettings: strict),
        .testTarget(
            name: "NUMAPlacementTests",
            dependencies: [
                "NUMAPlacement", "NUMAModel", "NUMASimulation",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "NUMAPolicyTests", dependencies: ["NUMAPolicy", "NUMAModel", "NUMAProc"],
                    exclude: ["Broken"], swiftSettings: strict),
        .testTarget(name: "NUMAActuationTests",
                    dependencies: ["NUMAActuation", "NUMAModel", "NUMAProc", "NUMAPrivileges"],
                    swiftSettings: strict),
        .testTarget(name: "NUMADaemonTests",
                    dependencies: ["NUMADaemon", "NUMAPolicy", "NUMAModel", "NUMAPrivileges", "NUMAActuation", "NUMAProc",
                                   .product(name: "Logging", package: "swift-log")],
                    swiftSettings: strict),
        // Boots real multi-node guests in QEMU (numa-lab); serialized, never skipped in CI.
        .testTarget(name: "LabTests", exclude: ["Scripts", "Java"],
                    swiftSettings: strict),
    ]
)
