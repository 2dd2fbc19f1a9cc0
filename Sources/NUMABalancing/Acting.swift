import NUMAActuation
import NUMAModel

/// The last step of a round, shared by the daemon's loop and the one-shot:
/// the actions carried out by the kernel's actuator (or reported by the
/// dry run's), each journalled (intent, then outcome) unless it is a dry run.
public enum Acting {
    /// `by` names the actor in the journal ("numabalance daemon (pid 42)");
    /// `onRecord` sees each action's record as it is done.
    public static func run(_ actions: [Action], kernel: LinuxKernel, options: ActuationOptions, journal: Journal,
                           dryRun: Bool, by: String, onRecord: (ActionRecord) -> Void = { _ in }) -> [ActionRecord] {
        let actuator: any Actuator = dryRun
            ? DryRunActuator(kernel: kernel, options: options) : LinuxActuator(kernel: kernel, options: options)
        let runner = PlanRunner(actuator: actuator, journal: dryRun ? nil : journal, by: by, stop: options.stop)
        return runner.run(actions, onRecord: onRecord)
    }
}
