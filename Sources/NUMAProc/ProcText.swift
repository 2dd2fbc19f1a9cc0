// Byte-level cutting of /proc text into lines, fields and numbers. Procfs
// files are ASCII apart from names (comm, paths), so working on UTF-8 bytes
// is exact, fast in debug builds, and never traps on odd input.

/// One line of a procfs text: its bytes (without the newline) and 1-based number.
struct ProcLine {
    let number: Int
    let bytes: ArraySlice<UInt8>
    let source: String

    /// An error that points at this line.
    func fail(_ reason: String) -> ProcParseError {
        ProcParseError(source: source, line: number, reason: reason)
    }

    /// Fields separated by runs of spaces or tabs.
    var fields: [ArraySlice<UInt8>] { ProcText.fields(bytes) }

    var isBlank: Bool { bytes.allSatisfy(ProcText.isSpace) }

    /// Only printable ASCII and tabs: what the kernel prints outside names and paths.
    var isPrintableASCII: Bool { bytes.allSatisfy { ($0 >= 0x20 && $0 < 0x7f) || $0 == ProcText.tab } }

    func hasPrefix(_ prefix: String) -> Bool { ProcText.hasPrefix(bytes, prefix) }

    /// The part before the first `separator` and the part after it, or nil.
    func split(at separator: UInt8) -> (ArraySlice<UInt8>, ArraySlice<UInt8>)? {
        guard let index = bytes.firstIndex(of: separator) else { return nil }
        return (bytes[bytes.startIndex..<index], bytes[(index + 1)...])
    }
}

enum ProcText {
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let newline = UInt8(ascii: "\n")
    /// No real procfs line comes near this; a longer one is garbage.
    static let maxFieldsPerLine = 4096

    static func isSpace(_ byte: UInt8) -> Bool { byte == space || byte == tab || byte == 13 }

    /// Lines of the text; a final newline does not make an empty last line.
    static func lines(_ bytes: [UInt8], source: String) -> [ProcLine] {
        var result: [ProcLine] = []
        var start = bytes.startIndex
        var number = 1
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: newline) ?? bytes.endIndex
            result.append(ProcLine(number: number, bytes: bytes[start..<end], source: source))
            number += 1
            start = end + 1
        }
        return result
    }

    static func lines(_ text: String, source: String) -> [ProcLine] {
        lines(Array(text.utf8), source: source)
    }

    /// Fields separated by runs of spaces or tabs; at most `maxFieldsPerLine`.
    static func fields(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var index = bytes.startIndex
        while index < bytes.endIndex, result.count < maxFieldsPerLine {
            while index < bytes.endIndex, isSpace(bytes[index]) { index += 1 }
            guard index < bytes.endIndex else { break }
            let start = index
            while index < bytes.endIndex, !isSpace(bytes[index]) { index += 1 }
            result.append(bytes[start..<index])
        }
        return result
    }

    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let first = bytes.firstIndex(where: { !isSpace($0) }),
              let last = bytes.lastIndex(where: { !isSpace($0) })
        else { return bytes[bytes.endIndex...] }
        return bytes[first...last]
    }

    static func hasPrefix(_ bytes: ArraySlice<UInt8>, _ prefix: String) -> Bool {
        var index = bytes.startIndex
        for byte in prefix.utf8 {
            guard index < bytes.endIndex, bytes[index] == byte else { return false }
            index += 1
        }
        return true
    }

    static func equals(_ bytes: ArraySlice<UInt8>, _ word: String) -> Bool {
        bytes.count == word.utf8.count && hasPrefix(bytes, word)
    }

    static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// A decimal number of digits only; nil when empty, not digits, or above UInt64.
    static func decimal(_ bytes: ArraySlice<UInt8>) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= 48, byte <= 57 else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(byte - 48))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return value
    }

    /// A decimal number with an optional leading minus sign.
    static func signed(_ bytes: ArraySlice<UInt8>) -> Int64? {
        if bytes.first == UInt8(ascii: "-") {
            guard let magnitude = decimal(bytes.dropFirst()), magnitude <= UInt64(Int64.max) + 1
            else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard let value = decimal(bytes), value <= UInt64(Int64.max) else { return nil }
        return Int64(value)
    }

    /// A hexadecimal number without "0x"; nil when empty, not hex, or above UInt64.
    static func hex(_ bytes: some Collection<UInt8>) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 16 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            let digit: UInt8
            switch byte {
            case 48...57: digit = byte - 48
            case 97...102: digit = byte - 87
            case 65...70: digit = byte - 55
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    /// The bytes for an error message: quoted, at most 40 bytes, control bytes escaped.
    static func quoted(_ bytes: ArraySlice<UInt8>) -> String {
        var out = "\""
        for byte in bytes.prefix(40) {
            switch byte {
            case 0x20..<0x7f where byte != UInt8(ascii: "\""):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16)
                out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        if bytes.count > 40 { out += "…" }
        return out + "\""
    }

    /// A "N kB" value of status, meminfo or smaps in bytes; nil if malformed or absurd.
    static func kilobytes(_ value: ArraySlice<UInt8>) -> UInt64? {
        let parts = fields(value)
        guard parts.count == 2, equals(parts[1], "kB"), let kB = decimal(parts[0]) else { return nil }
        let (bytes, overflow) = kB.multipliedReportingOverflow(by: 1024)
        return overflow ? nil : bytes
    }
}
