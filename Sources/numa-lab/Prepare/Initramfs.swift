// The initramfs: static busybox, the virtio and 9p modules (Debian builds them
// as modules) in dependency order, and /init. Built once per kernel and /init
// text, and kept in the cache.
import Foundation
import Glibc

enum Initramfs {
    /// What /init must load to mount the host's root over virtio-9p; their
    /// dependencies are found from each module's own `depends=` string.
    /// overlay: the writable root of `run --systemd` (GuestSystemd).
    static let rootModules = ["virtio_pci", "9pnet_virtio", "9p", "overlay"]

    /// The cached initramfs for `kernel`, built if missing. The file name
    /// carries a hash of /init, so a changed /init builds a new one.
    static func prepare(for kernel: GuestKernel, in cache: LabCache) throws -> String {
        let modules = try moduleFiles(in: kernel.modules)
        let order = try loadOrder(roots: rootModules, files: modules)
        let script = GuestScripts.initScript(moduleOrder: order)
        let path = "\(cache.root)/initramfs-\(kernel.release)-\(fnv1a(script)).cpio.gz"
        if fileExists(path) { return path }

        note("building the initramfs (\(order.joined(separator: " ")))")
        let staging = "\(cache.root)/initramfs.staging"
        try? FileManager.default.removeItem(atPath: staging)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        for folder in ["bin", "lib/modules", "proc", "sys", "dev", "host"] {
            try makeFolder("\(staging)/\(folder)")
        }
        guard let busybox = staticBusybox() else {
            throw LabError("no static busybox at /bin/busybox (package busybox-static)")
        }
        try FileManager.default.copyItem(atPath: busybox, toPath: "\(staging)/bin/busybox")
        for name in order {
            guard let source = modules[name] else { throw LabError("module \(name) not found in \(kernel.modules)") }
            try copyModule(source, to: "\(staging)/lib/modules/\(name).ko")
        }
        try script.write(toFile: "\(staging)/init", atomically: true, encoding: .utf8)
        chmod("\(staging)/init", 0o755)
        try archive(staging, to: path)
        // Older builds (another kernel or /init) are not booted again; qemu
        // reads its initramfs once at start, so a running guest is unaffected.
        let names = (try? FileManager.default.contentsOfDirectory(atPath: cache.root)) ?? []
        for name in names where name.hasPrefix("initramfs-") && "\(cache.root)/\(name)" != path {
            try? FileManager.default.removeItem(atPath: "\(cache.root)/\(name)")
        }
        return path
    }

    /// Module name → file, for every .ko, .ko.xz, .ko.zst under `modulesRoot`.
    /// Names use `_`, as `depends=` does, whatever the file name uses.
    static func moduleFiles(in modulesRoot: String) throws -> [String: String] {
        guard let walker = FileManager.default.enumerator(atPath: "\(modulesRoot)/kernel") else {
            throw LabError("no modules in \(modulesRoot)/kernel")
        }
        var files: [String: String] = [:]
        for case let relative as String in walker {
            let file = (relative as NSString).lastPathComponent
            guard let range = file.range(of: ".ko") else { continue }
            let suffix = file[range.upperBound...]
            guard ["", ".xz", ".zst", ".gz"].contains(suffix) else { continue }
            let name = String(file[..<range.lowerBound]).replacingOccurrences(of: "-", with: "_")
            files[name] = "\(modulesRoot)/kernel/\(relative)"
        }
        return files
    }

    /// Roots and their dependencies, each after what it depends on (a
    /// depth-first post-order over the `depends=` graph).
    static func loadOrder(roots: [String], files: [String: String]) throws -> [String] {
        var order: [String] = []
        var visiting: Set<String> = []
        func visit(_ name: String) throws {
            guard !order.contains(name) else { return }
            guard !visiting.contains(name) else { throw LabError("module dependency cycle at \(name)") }
            visiting.insert(name)
            guard let file = files[name] else { throw LabError("kernel module \(name) not found") }
            for dependency in try moduleDepends(try moduleBytes(file)) { try visit(dependency) }
            order.append(name)
        }
        for root in roots { try visit(root) }
        return order
    }

    /// The `depends=` entry of a module's .modinfo section: a NUL-terminated
    /// string inside the file, what `modinfo -F depends` prints (kmod may be absent).
    static func moduleDepends(_ bytes: [UInt8]) throws -> [String] {
        let key = Array("depends=".utf8)
        var index = 0
        while index + key.count <= bytes.count {
            // A .modinfo entry starts the file's string or follows a NUL.
            if bytes[index] == key[0], index == 0 || bytes[index - 1] == 0,
               Array(bytes[index..<index + key.count]) == key {
                var end = index + key.count
                while end < bytes.count && bytes[end] != 0 { end += 1 }
                let value = String(decoding: bytes[(index + key.count)..<end], as: UTF8.self)
                return value.split(separator: ",").map { $0.replacingOccurrences(of: "-", with: "_") }
            }
            index += 1
        }
        throw LabError("no depends= in module")
    }

    /// A module's uncompressed bytes (Debian ships .ko; newer kernels .ko.xz or .ko.zst).
    static func moduleBytes(_ file: String) throws -> [UInt8] {
        if file.hasSuffix(".ko") {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        }
        let scratch = "\(NSTemporaryDirectory())/numa-lab-module-\(getpid()).ko"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try copyModule(file, to: scratch)
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: scratch)))
    }

    /// Copies a module, decompressing it: the initramfs's busybox insmod
    /// takes plain .ko files.
    private static func copyModule(_ source: String, to target: String) throws {
        if source.hasSuffix(".ko") {
            try FileManager.default.copyItem(atPath: source, toPath: target)
        } else {
            let tool = source.hasSuffix(".xz") ? (findExecutable("xz").map { [$0] } ?? ["busybox", "xz"])
                : source.hasSuffix(".zst") ? ["zstd", "-q"] : ["gzip"]
            let child = try Subprocess.spawn(tool + ["-dc", source], stdout: .file(target), stderr: .null)
            guard child.wait().succeeded else { throw LabError("cannot decompress \(source)") }
        }
    }

    /// The static busybox of busybox-static (a dynamic one could not run
    /// before the host's root, and so its libc, is mounted).
    static func staticBusybox() -> String? {
        for path in ["/bin/busybox", "/usr/bin/busybox"] where fileExists(path) {
            let head = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 4096)) ?? nil
            // PT_INTERP names "/lib64/ld-linux…" in a dynamic binary's first page.
            if let head, head.range(of: Data("ld-linux".utf8)) == nil { return path }
        }
        return nil
    }

    /// `find . | cpio -o -H newc | gzip`, with busybox's cpio when cpio is missing.
    private static func archive(_ staging: String, to path: String) throws {
        let cpio = findExecutable("cpio") != nil ? "cpio --quiet" : "busybox cpio"
        let partial = path + ".partial"
        try Subprocess.check(["sh", "-c", "find . | \(cpio) -o -H newc | gzip -1 > \(shellQuoted(partial))"],
                             directory: staging)
        guard rename(partial, path) == 0 else { throw LabError("cannot rename \(partial)") }
    }

    /// A stable short hash (FNV-1a, 64 bits) for cache file names.
    static func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
