import Foundation

/// The test fixtures: files captured on a real host (host/) and hand-written
/// multi-node ones (proc/, sys/, zoneinfo/, cgroup/).
enum Fixture {
    static var root: String {
        Bundle.module.path(forResource: "Fixtures", ofType: nil)!
    }

    static func path(_ name: String) -> String { root + "/" + name }

    static func text(_ name: String) throws -> String {
        try String(contentsOfFile: path(name), encoding: .utf8)
    }

    /// How many whole lines (ending in a newline) a cut keeps.
    static func completeLines(_ cut: String) -> Int { cut.utf8.filter { $0 == UInt8(ascii: "\n") }.count }

    /// The cut's whole lines only (up to its last newline).
    static func complete(_ cut: String) -> String {
        cut.lastIndex(of: "\n").map { String(cut[...$0]) } ?? ""
    }

    /// Every prefix of `text` cut in the middle of a line (at each byte of
    /// the first `limit` and then every `step`-th byte), for truncation tests.
    static func cuts(of text: String, step: Int = 7, limit: Int = 64) -> [String] {
        let bytes = Array(text.utf8)
        var result: [String] = []
        var index = 0
        while index < bytes.count {
            if index > 0, bytes[index - 1] != UInt8(ascii: "\n") {
                result.append(String(decoding: bytes[..<index], as: UTF8.self))
            }
            index += index < limit ? 1 : step
        }
        return result
    }

    /// Deterministic noise: bytes that are not a proc file.
    static func garbage(seed: UInt64, count: Int) -> String {
        var state = seed
        var bytes: [UInt8] = []
        for _ in 0..<count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            bytes.append(UInt8(truncatingIfNeeded: state >> 33))
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
