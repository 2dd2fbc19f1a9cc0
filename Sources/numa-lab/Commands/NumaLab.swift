// numa-lab: a real multi-node NUMA kernel on a one-node machine, for the
// project's tests and demos. A development tool, not installed by the packages.
import ArgumentParser

@main
struct NumaLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "numa-lab",
        abstract: "Boot a multi-node NUMA Linux guest in QEMU and run a command inside it.",
        discussion: """
            The guest is Debian's own kernel under QEMU (TCG) with the NUMA topology \
            you name (see `numa-lab topologies`). The host's whole root is visible \
            read-only at the same paths, so the checkout, its build folder and the \
            host's tools (numactl, numad, the Swift runtime) run unchanged. /tmp, \
            /var/tmp, /run, /var/lib and /var/log are empty tmpfs in the guest: \
            put files the guest must read elsewhere (the checkout is fine).

            The command runs as root in the host's current folder. Its stdout and \
            stderr are printed as it runs (the kernel's console is not), and \
            numa-lab exits with its exit code; 124 if --timeout passed, 125 if the \
            guest failed to boot or died before the command finished. Files the \
            command writes under $LAB_OUT come back to --out.

            First use installs qemu-system-x86, busybox-static, numactl and numad \
            (apt-get), fetches the kernel (apt-get download linux-image-amd64, \
            dpkg -x) and builds an initramfs, all kept in the cache folder: \
            $NUMA_LAB_CACHE, else /var/cache/numa-lab as root, else \
            $XDG_CACHE_HOME/numa-lab. `numa-lab prepare` does only that.

            Examples:
              numa-lab run --topology 2x2 -- numactl -H
              numa-lab run --topology 4x1 --out lab-out -- sh -c 'numactl -H > $LAB_OUT/h.txt'
              numa-lab run --topology 2x2 --env NUMA_DEBUG=1 -- ./.build/debug/numabalance topology
            """,
        subcommands: [RunCommand.self, TopologiesCommand.self, PrepareCommand.self]
    )
}
