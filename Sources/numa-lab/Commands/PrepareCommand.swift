// `numa-lab prepare`: the first-use work alone (packages, kernel, initramfs),
// e.g. to warm a CI machine's cache before the timed tests.
import ArgumentParser

struct PrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Install the packages, fetch the kernel and build the initramfs; boot nothing.",
        discussion: "Prints the kernel image and initramfs paths it will boot."
    )

    func run() throws {
        let cache = LabCache.locate()
        do {
            let boot = try BootFiles.prepare(in: cache)
            print("kernel: \(boot.kernelImage)")
            print("initramfs: \(boot.initramfs)")
        } catch let error as LabError {
            note(error.description)
            throw ExitCode(LabExit.labFailure)
        }
    }
}
