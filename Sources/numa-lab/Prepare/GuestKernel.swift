// The guest kernel: Debian's own, fetched with `apt-get download` and unpacked
// with `dpkg -x` into the cache (never installed on the host).
import Foundation
import Glibc

struct GuestKernel {
    /// e.g. "6.1.0-56-amd64"
    let release: String
    /// The dpkg -x tree: boot/ and lib/modules/<release>/.
    let tree: String

    var bzImage: String { "\(tree)/boot/vmlinuz-\(release)" }
    var config: String { "\(tree)/boot/config-\(release)" }
    var modules: String { "\(tree)/lib/modules/\(release)" }
    /// The uncompressed kernel, booted directly through PVH.
    var vmlinux: String { "\(tree)/vmlinux" }

    /// The cached kernel, fetched and unpacked if the cache has none.
    static func prepare(in cache: LabCache) throws -> GuestKernel {
        let marker = "\(cache.kernelRoot)/current"
        if let release = try? String(contentsOfFile: marker, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines),
           !release.isEmpty {
            let kernel = GuestKernel(release: release, tree: "\(cache.kernelRoot)/\(release)")
            if fileExists(kernel.bzImage) { return kernel }
        }
        let kernel = try fetch(into: cache)
        try kernel.release.write(toFile: marker, atomically: true, encoding: .utf8)
        return kernel
    }

    /// linux-image-amd64 is a metapackage whose Depends names the real image
    /// package, linux-image-<release>; that one ships the kernel and modules.
    private static func fetch(into cache: LabCache) throws -> GuestKernel {
        let downloads = "\(cache.kernelRoot)/downloads"
        try? FileManager.default.removeItem(atPath: downloads)
        try makeFolder(downloads)
        defer { try? FileManager.default.removeItem(atPath: downloads) }

        let meta = try download("linux-image-amd64", into: downloads)
        let depends = try Subprocess.check(["dpkg-deb", "-f", meta, "Depends"])
        guard let image = imagePackage(inDepends: depends) else {
            throw LabError("linux-image-amd64 depends on no linux-image-<release> package: \(depends)")
        }
        let release = String(image.dropFirst("linux-image-".count))
        note("fetching the guest kernel \(image) (apt-get download, dpkg -x)")
        let deb = try download(image, into: downloads)

        let tree = "\(cache.kernelRoot)/\(release)"
        let partial = tree + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        try? FileManager.default.removeItem(atPath: tree)
        try Subprocess.check(["dpkg", "-x", deb, partial])
        guard rename(partial, tree) == 0 else {
            throw LabError("cannot rename \(partial): \(errnoText(errno))")
        }
        let kernel = GuestKernel(release: release, tree: tree)
        guard fileExists(kernel.bzImage) else { throw LabError("\(image) has no \(kernel.bzImage)") }
        return kernel
    }

    /// The first `linux-image-…` name in a Depends field such as
    /// "linux-image-6.1.0-56-amd64 (= 6.1.192-2)".
    static func imagePackage(inDepends depends: String) -> String? {
        let separators = Set<Character>([",", "|", " ", "(", "\n"])
        return depends.split(whereSeparator: { separators.contains($0) })
            .map(String.init)
            .first { $0.hasPrefix("linux-image-") && $0 != "linux-image-amd64" }
    }

    /// `apt-get download name` in `folder`; updates the lists once if apt
    /// does not know the package. Returns the .deb's path.
    private static func download(_ name: String, into folder: String) throws -> String {
        do {
            try Prerequisites.apt(["download", "-q", name], directory: folder)
        } catch {
            try Prerequisites.update()
            try Prerequisites.apt(["download", "-q", name], directory: folder)
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        guard let deb = names.first(where: { $0.hasPrefix(name + "_") && $0.hasSuffix(".deb") }) else {
            throw LabError("apt-get download \(name) left no .deb in \(folder)")
        }
        return "\(folder)/\(deb)"
    }
}

extension GuestKernel {
    /// The kernel image to hand QEMU. A bzImage decompresses itself under TCG,
    /// which costs about 5 s per boot; an uncompressed vmlinux with a PVH entry
    /// point (CONFIG_PVH) boots straight away. Falls back to the bzImage.
    func bootImage() -> String {
        if fileExists(vmlinux) { return vmlinux }
        let config = (try? String(contentsOfFile: config, encoding: .utf8)) ?? ""
        guard config.contains("\nCONFIG_PVH=y") else { return bzImage }
        do {
            try extractVmlinux()
            return vmlinux
        } catch {
            note("booting the compressed kernel: \(error)")
            return bzImage
        }
    }

    /// Finds the xz stream inside the bzImage (Debian builds with KERNEL_XZ)
    /// and decompresses it. xz warns about the trailing bytes after the stream,
    /// so success is judged by the output being an ELF file.
    private func extractVmlinux() throws {
        let image = try Data(contentsOf: URL(fileURLWithPath: bzImage))
        let magic = Data([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00])
        guard let start = image.range(of: magic)?.lowerBound else {
            throw LabError("no xz stream in \(bzImage)")
        }
        let compressed = "\(tree)/vmlinux.xz"
        try image[start...].write(to: URL(fileURLWithPath: compressed))
        defer { try? FileManager.default.removeItem(atPath: compressed) }
        let partial = vmlinux + ".partial"
        let xz = findExecutable("xz").map { [$0] } ?? ["busybox", "xz"]
        let child = try Subprocess.spawn(xz + ["-dc", compressed], stdout: .file(partial), stderr: .null)
        _ = child.wait()
        let head = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: partial)).read(upToCount: 4)) ?? nil
        guard head == Data([0x7F, 0x45, 0x4C, 0x46]) else {
            try? FileManager.default.removeItem(atPath: partial)
            throw LabError("decompressing \(bzImage) gave no ELF image")
        }
        guard rename(partial, vmlinux) == 0 else { throw LabError("cannot rename \(partial)") }
    }
}
