import Foundation
import ServiceLifecycle
import NUMASystem
import UnixSignals

/// The balancing loop as a service: its own thread; a graceful shutdown
/// asks it to stop after the batch in flight.
struct BalancingService: Service {
    let balancer: Balancer
    let notifier: SystemdNotifier
    let readyStatus: String

    func run() async throws {
        try? notifier.ready(status: readyStatus)
        await withGracefulShutdownHandler {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                let thread = Thread { [balancer] in
                    Host.nameThisThread("nb-balancer")
                    balancer.run()
                    done.resume()
                }
                thread.start()
            }
        } onGracefulShutdown: { [balancer, notifier] in
            try? notifier.stopping()
            balancer.stop.request()
            balancer.wake()
        }
    }
}

/// SIGHUP: reload config and policies.
struct ReloadService: Service {
    let reloader: Reloader

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            _ = reloader.reload(by: "SIGHUP")
        }
    }
}

/// A server started before READY=1 (so `status` answers from then on), kept
/// in the service group so its stop comes in the group's order: after the
/// balancing loop and reload, the control socket last.
struct ServerService: Service {
    let stop: @Sendable () -> Void

    func run() async throws {
        try? await gracefulShutdown()
        stop()
    }
}
