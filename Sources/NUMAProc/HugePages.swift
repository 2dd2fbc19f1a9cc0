import NUMASystem

/// The default huge page size (Hugepagesize in /proc/meminfo): what a
/// hugetlb mapping's pages are, unless it asked for another size.
public enum HugePages {
    public static let defaultBytes: UInt64 = read() ?? 2 << 20

    /// "Hugepagesize:    2048 kB" of a meminfo text, in bytes.
    public static func parse(meminfo text: String) -> UInt64? {
        for line in text.split(separator: "\n") where line.hasPrefix("Hugepagesize:") {
            let number = line.dropFirst("Hugepagesize:".count).split(separator: " ").first.flatMap { UInt64($0) }
            return number.map { $0 * 1024 }
        }
        return nil
    }

    private static func read() -> UInt64? {
        guard case .success(let bytes) = FileIO.read("/proc/meminfo") else { return nil }
        return parse(meminfo: String(decoding: bytes, as: UTF8.self))
    }
}
