import Foundation
import Logging
import NUMAModel
import NUMAPolicy
import NUMAPrivileges
import NUMASystem
import NUMATopology
import ServiceLifecycle
import Synchronization
import UnixSignals

/// A failure that stops the daemon from starting, in words.
public struct DaemonError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// The failed system call behind it, when there was one.
    public var cause: SystemError?
    public init(_ description: String, cause: SystemError? = nil) {
        self.description = description
        self.cause = cause
    }
}

/// What the balancing loop needs from the daemon around it.
struct DaemonEnvironment: Sendable {
    var mode: PlacementMode
    var notifier: SystemdNotifier
    var metrics: DaemonMetrics
    var capabilitiesKept: [String]
    var kernelSwitch: KernelBalancingSwitch
    /// The kernel's process events, subscribed before the capabilities were
    /// dropped; nil when that was not possible (discovery lists /proc each second).
    var processEvents: ProcConnector? = nil

    func kernelBalancingValue() -> Int? { kernelSwitch.read() }
}

/// `numabalance run`: the start-up sequence, the services, the shutdown.
///
/// Start: as root, the host's lock and a kernel.numa_balancing left saved
/// by a crash restored (HostState, before anything can fail); settings (a
/// bad file stops the start with file:line:column), the lock, the kernel
/// balancer, capabilities dropped to what is needed, samplers, control
/// socket, READY=1. Then SIGHUP reloads, SIGTERM stops: the batch in
/// flight ends (about a second), STOPPING=1, the kernel balancer is
/// restored, exit 0.
public enum Daemon {
    public static func run(source: SettingsSource, host: HostState = HostState()) -> Int32 {
        let claim: HostState.Claim? = Host.isRoot ? host.claim() : nil
        guard let (topology, settings) = loadSettings(source) else { return 1 }
        let config = settings.config
        let logLevel = DaemonLogHandler.bootstrap(level: config.logLevel)
        let logger = Logger(label: "numabalance")
        logRecovery(claim, logger: logger)
        // Each step below throws what stops the start; what it set up is
        // undone (in reverse) by the defers as the function returns.
        do {
            let claimsHost = HostState.claimsHost(dryRun: config.dryRun,
                                                  disablesKernelBalancing: config.kernelBalancing == .disable)
            let lock = try takeLock(claim, claimsHost: claimsHost, config: config)
            defer { lock.release() }
            let kernelSwitch = claimsHost && claim != nil
                ? host.kernelSwitch() : KernelBalancingSwitch(stateDirectory: config.stateDirectory)
            let mode = try setUpKernelBalancing(kernelSwitch, setting: config.kernelBalancing, logger: logger)
            defer { restoreKernelBalancing(kernelSwitch, setting: config.kernelBalancing, logger: logger) }
            let events = subscribeToProcessEvents(logger: logger)
            let kept = try dropCapabilities(config: config, kernelSwitch: kernelSwitch, logger: logger)
            let notifier = SystemdNotifier()
            let environment = DaemonEnvironment(mode: mode, notifier: notifier, metrics: DaemonMetrics(),
                                                capabilitiesKept: kept.map(\.rawValue), kernelSwitch: kernelSwitch,
                                                processEvents: events)
            let balancer = try Balancer(environment: environment, settings: settings, topology: topology, logger: logger)
            let reloader = Reloader(source: source, balancer: balancer, topology: topology, notifier: notifier,
                                    logger: logger, logLevel: logLevel)
            // Both stop as services of the group; the defers cover a start
            // that fails before the group runs (a second stop is nothing).
            let server = try startControlServer(config: config, balancer: balancer, reloader: reloader,
                                                metrics: environment.metrics)
            defer { server.stop() }
            let metricsServer = try startMetricsServer(config: config, metrics: environment.metrics, logger: logger)
            defer { metricsServer?.stop() }
            var servers = [ServerService(stop: { server.stop() })]
            if let metricsServer { servers.append(ServerService(stop: { metricsServer.stop() })) }
            let summary = "\(mode.rawValue) mode, \(topology.nodes.count) nodes, policy generation \(settings.generation)"
                + (config.dryRun ? ", dry run" : "")
            logStarted(settings: settings, mode: mode, topology: topology, socket: server.socketPath, logger: logger)
            return runServices(servers: servers, balancer: balancer, reloader: reloader, notifier: notifier,
                               readyStatus: summary, logger: logger)
        } catch {
            logger.error("not starting: \(error)")
            return 1
        }
    }

    /// The topology and the settings; on a bad file, its errors on stderr
    /// (the logger is not set up before the settings name its level).
    static func loadSettings(_ source: SettingsSource) -> (Topology, Settings)? {
        let topology: Topology
        do { topology = try TopologyReader().read() } catch {
            FileHandle.standardError.write(Data("numabalance: cannot read the NUMA topology: \(error)\n".utf8))
            return nil
        }
        do { return (topology, try source.load(generation: 1, topology: topology)) } catch {
            FileHandle.standardError.write(Data("numabalance: not starting; fix these first:\n\(error)\n".utf8))
            return nil
        }
    }

    static func logRecovery(_ claim: HostState.Claim?, logger: Logger) {
        switch claim?.recovered {
        case .success(let value?)?:
            logger.warning("restored kernel.numa_balancing=\(value), left at 0 by a run that did not exit cleanly")
        case .failure(let error)?: logger.error("cannot restore kernel.numa_balancing left by an earlier run: \(error)")
        default: break
        }
    }

    /// The host's lock when this run claims the host; a dry run leaves the
    /// host alone and locks its own state folder.
    static func takeLock(_ claim: HostState.Claim?, claimsHost: Bool, config: DaemonConfig) throws -> InstanceLock {
        if claimsHost, let claim { return try claim.lock.get() }
        if case .success(let hostLock)? = claim?.lock { hostLock.release() }
        return try InstanceLock(stateDirectory: config.stateDirectory)
    }

    /// The kernel's process events (the proc connector): subscribing needs
    /// CAP_NET_ADMIN, which the daemon uses for this alone, before it drops
    /// it; the socket keeps delivering after. Without it, discovery lists
    /// /proc each second, as it says.
    static func subscribeToProcessEvents(logger: Logger) -> ProcConnector? {
        guard Privileges.current().has(.netAdmin) else {
            logger.notice("process events off: subscribing to the proc connector needs CAP_NET_ADMIN; listing /proc each second")
            return nil
        }
        switch ProcConnector.open() {
        case .success(let connector):
            logger.info("process events on: new processes looked at \(Balancer.startDelay) s after they start; /proc listed every 30 s to reconcile")
            return connector
        case .failure(let error):
            logger.notice("process events off: \(error); listing /proc each second")
            return nil
        }
    }

    /// Before any thread of ours exists: capabilities are per thread and
    /// threads inherit them from the one that creates them. CAP_SYS_ADMIN
    /// only to write back at exit a value this daemon saved itself.
    static func dropCapabilities(config: DaemonConfig, kernelSwitch: KernelBalancingSwitch,
                                 logger: Logger) throws -> [Capability] {
        let restoresAtExit = config.kernelBalancing == .disable && kernelSwitch.savedHolder() == .daemon
        do {
            let result = try Privileges.keepOnly(Privileges.daemonNeeds(disableKernelBalancing: restoresAtExit))
            logger.notice("capabilities dropped", metadata: [
                "kept": "\(result.kept.map(\.rawValue).joined(separator: ","))",
                "dropped": "\(result.dropped.count)", "noNewPrivs": "1"])
            return result.kept
        } catch {
            throw DaemonError("cannot drop capabilities: \(error)")
        }
    }

    static func startControlServer(config: DaemonConfig, balancer: Balancer, reloader: Reloader,
                                   metrics: DaemonMetrics) throws -> ControlServer {
        let server = ControlServer(runtimeDirectory: config.runtimeDirectory) { request in
            switch request {
            case .status: return balancer.shared.withLock { $0.status }.text
            case .statusJSON: return balancer.shared.withLock { $0.status }.json
            case .metrics: return metrics.text()
            case .reload:
                let reply = reloader.reload(by: "control socket")
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                return String(decoding: (try? encoder.encode(reply)) ?? Data(), as: UTF8.self) + "\n"
            }
        }
        try server.start()
        return server
    }

    static func startMetricsServer(config: DaemonConfig, metrics: DaemonMetrics,
                                   logger: Logger) throws -> MetricsHTTPServer? {
        guard let listen = config.metrics.listen else { return nil }
        return try MetricsHTTPServer(address: listen, log: { logger.warning("\($0)") }) { metrics.text() }
    }

    static func logStarted(settings: Settings, mode: PlacementMode, topology: Topology, socket: String, logger: Logger) {
        let config = settings.config
        logger.notice("started", metadata: [
            "mode": "\(mode.rawValue)", "nodes": "\(topology.nodes.count)",
            "config": "\(settings.configFile ?? "defaults")", "policyFiles": "\(settings.policies.files.count)",
            "dryRun": "\(config.dryRun)", "socket": "\(socket)"])
        if config.kernelBalancing == .warn, mode == .hybrid {
            logger.warning("""
                kernel.numa_balancing is on: hybrid mode (the kernel places pages per thread; numabalance \
                places processes, groups and shared objects). kernelBalancing: disable gives standalone mode
                """)
        }
    }

    /// The services until SIGTERM or SIGINT: the servers, the balancing
    /// loop and reload; a graceful shutdown stops them in reverse order
    /// (reload, the loop's batch in flight, then the servers). The
    /// synchronous caller waits on a semaphore (capabilities were dropped
    /// before any thread existed; see NumaBalanceCommand).
    static func runServices(servers: [ServerService], balancer: Balancer, reloader: Reloader,
                            notifier: SystemdNotifier, readyStatus: String, logger: Logger) -> Int32 {
        let group = ServiceGroup(configuration: .init(
            services: servers.map { .init(service: $0) } + [
                .init(service: BalancingService(balancer: balancer, notifier: notifier, readyStatus: readyStatus)),
                .init(service: ReloadService(reloader: reloader)),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        let finished = DispatchSemaphore(value: 0)
        let failure = Mutex<String?>(nil)
        Task {
            do { try await group.run() } catch { failure.withLock { $0 = "\(error)" } }
            finished.signal()
        }
        finished.wait()
        if let failure = failure.withLock({ $0 }) {
            logger.error("stopped on an error: \(failure)")
            return 1
        }
        let totals = balancer.shared.withLock { $0.status.totals }
        logger.notice("stopped", metadata: ["actions": "\(totals.actions)", "pagesMoved": "\(totals.pagesMoved)"])
        return 0
    }

    /// The mode follows kernel.numa_balancing as found (after `disable`).
    static func setUpKernelBalancing(_ kernelSwitch: KernelBalancingSwitch, setting: KernelBalancing,
                                     logger: Logger) throws -> PlacementMode {
        if let restored = try kernelSwitch.recoverAfterCrash() {
            logger.warning("restored kernel.numa_balancing=\(restored), left at 0 by a run that did not exit cleanly")
        }
        if setting == .disable {
            if kernelSwitch.savedHolder() == .service, kernelSwitch.read() == 0 {
                logger.notice("kernel balancer disabled by the service (ExecStartPre=+numabalance prepare); its ExecStopPost= restores it")
            } else {
                let found = try kernelSwitch.disable()
                logger.notice("kernel balancer disabled while running", metadata: ["found": "\(found)"])
            }
        }
        return PlacementMode(numaBalancing: kernelSwitch.read())
    }

    static func restoreKernelBalancing(_ kernelSwitch: KernelBalancingSwitch, setting: KernelBalancing,
                                       logger: Logger) {
        guard setting == .disable, kernelSwitch.savedHolder() == .daemon else { return }
        do {
            if let value = try kernelSwitch.restore() {
                logger.notice("kernel.numa_balancing restored", metadata: ["value": "\(value)"])
            }
        } catch {
            logger.error("cannot restore kernel.numa_balancing: \(error); it is restored at the next start")
        }
    }
}
