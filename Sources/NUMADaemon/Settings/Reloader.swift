import Foundation
import Logging
import NUMAModel
import NUMAPolicy
import NUMASampling
import NUMASystem
import Synchronization

/// A reload (SIGHUP, or `reload` on the control socket, which `policy
/// apply` sends): the config and every policy file are read again and
/// swapped in whole, or, on any error, logged with file:line:column while
/// the old settings stay in force.
final class Reloader: Sendable {
    let source: SettingsSource
    let balancer: Balancer
    let topology: Topology
    let notifier: SystemdNotifier
    let logger: Logger
    let logLevel: DaemonLogHandler.SharedLevel
    /// One reload at a time (SIGHUP and the socket may race).
    private let serial = Mutex<Void>(())

    init(source: SettingsSource, balancer: Balancer, topology: Topology, notifier: SystemdNotifier, logger: Logger,
         logLevel: DaemonLogHandler.SharedLevel) {
        self.logLevel = logLevel
        self.source = source
        self.balancer = balancer
        self.topology = topology
        self.notifier = notifier
        self.logger = logger
    }

    func reload(by trigger: String) -> ReloadReply {
        serial.withLock { _ in
            try? notifier.reloading()
            let current = balancer.shared.withLock { $0.pending ?? $0.settings }
            var next: Settings
            do throws(ConfigErrorList) { next = try source.load(generation: current.generation + 1, topology: topology) } catch {
                for line in error.errors {
                    logger.error("reload refused; the previous settings stay in force",
                                 metadata: ["trigger": "\(trigger)", "error": "\(line)"])
                }
                try? notifier.ready(status: "reload refused (see the log); generation \(current.generation) in force")
                return ReloadReply(ok: false, generation: current.generation, errors: error.errors.map(\.description),
                                   policyFiles: current.policies.files)
            }
            let restartOnly = current.config.restartOnlyChanges(to: next.config)
            if !restartOnly.isEmpty {
                logger.warning("these keys take effect at the next start only",
                               metadata: ["keys": "\(restartOnly.joined(separator: ","))"])
            }
            next.config = current.config.reloaded(from: next.config)
            balancer.shared.withLock { $0.pending = next }
            balancer.wake()
            logLevel.level = DaemonLogHandler.loggerLevel(next.config.logLevel)
            // Active once the loop has taken it (woken now, after the batch in flight).
            let deadline = Clock.monotonicSeconds() + 3
            while Clock.monotonicSeconds() < deadline, balancer.shared.withLock({ $0.pending != nil }) { Clock.sleep(seconds: 0.02) }
            try? notifier.ready(status: "running; policy generation \(next.generation)")
            logger.notice("reload accepted", metadata: ["trigger": "\(trigger)", "generation": "\(next.generation)"])
            return ReloadReply(ok: true, generation: next.generation, errors: [], policyFiles: next.policies.files)
        }
    }
}

