// Everything a boot needs from the cache, made ready under the cache's lock.

struct BootFiles {
    var kernelImage: String
    var initramfs: String

    /// Installs missing packages, fetches the kernel and builds the initramfs
    /// when the cache lacks them; otherwise only checks they are there.
    static func prepare(in cache: LabCache) throws -> BootFiles {
        try cache.withLock {
            try Prerequisites.install()
            let kernel = try GuestKernel.prepare(in: cache)
            return BootFiles(kernelImage: kernel.bootImage(),
                             initramfs: try Initramfs.prepare(for: kernel, in: cache))
        }
    }
}
