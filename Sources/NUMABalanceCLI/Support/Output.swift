import Foundation
import NUMABalancing
import NUMAModel

/// Printing helpers shared by the subcommands.
enum Output {
    /// Compact, stable JSON (sorted keys) followed by a newline.
    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    /// "1.5 GiB", "200.0 MiB", "512 B".
    static func bytes(_ value: UInt64) -> String { ByteCount.text(value) }

    /// "99.9%" for a share, "-" when unknown.
    static func percent(_ share: Double?, digits: Int = 1) -> String { Percent.text(share, digits: digits) }

    /// Left-aligned columns, two spaces apart.
    static func table(_ rows: [[String]]) -> String {
        guard let width = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: width)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// An error the commands print as is, then exit 1.
struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
