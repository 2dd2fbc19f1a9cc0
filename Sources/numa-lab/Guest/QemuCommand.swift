// The qemu-system-x86_64 command line for one guest run.

struct QemuCommand {
    var topology: LabTopology
    var kernelImage: String
    var initramfs: String
    var consoleLog: String
    var controlFolder: String
    var outFolder: String
    var extraKernelArguments: [String] = []

    /// Kernel console on the first serial port: panic=-1 turns a panic into a
    /// reboot, which -no-reboot turns into qemu exiting, so a dead guest never hangs.
    var kernelCommandLine: String {
        (["console=ttyS0", "panic=-1", "quiet"] + extraKernelArguments).joined(separator: " ")
    }

    /// TCG, not KVM: on these machines KVM guests die on an MSR error with
    /// `-cpu host` or hang at "Booting from ROM" (see shared/LAB.md).
    /// `-nodefaults` drops the VGA card, NIC and drives a boot would probe.
    var arguments: [String] {
        var args = [
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-accel", "tcg,thread=multi", "-cpu", "max",
            "-name", "numa-lab-\(topology.name)",
        ]
        args += topology.qemuArguments
        args += [
            "-kernel", kernelImage, "-initrd", initramfs,
            "-append", kernelCommandLine,
            "-serial", "file:\(consoleLog)",
            // The host's whole root, read-only, so the guest sees the checkout,
            // its build folder and the host's tools at the same paths.
            // multidevs=remap keeps inode numbers unique across host mounts.
            "-virtfs", "local,path=/,mount_tag=\(GuestPaths.hostRootTag),security_model=none,readonly=on,multidevs=remap",
            "-virtfs", "local,path=\(Self.optionValue(controlFolder)),mount_tag=\(GuestPaths.controlTag),security_model=none",
            "-virtfs", "local,path=\(Self.optionValue(outFolder)),mount_tag=\(GuestPaths.outTag),security_model=none",
        ]
        return args
    }

    /// QEMU's option syntax doubles a comma inside a value.
    static func optionValue(_ value: String) -> String {
        value.replacingOccurrences(of: ",", with: ",,")
    }
}
