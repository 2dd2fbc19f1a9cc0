/// Text from a process (its name, command line, a mapping's path) made safe
/// for a terminal or a log line. Any user names their processes and files as
/// they like, escape sequences and newlines included; printed raw to root's
/// terminal such a name can forge lines or drive the terminal. JSON output
/// needs none of this (the encoder escapes control characters).
public enum TerminalText {
    /// `text` with every control character (C0, DEL, C1) and every bidi
    /// override written out as an escape (`\n`, `\t`, `\e`, `\x9b`,
    /// `\u{202e}`), and backslashes doubled, so an escape in the output
    /// always means the byte was in the name.
    public static func escaped(_ text: some StringProtocol) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return String(text) }
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count + 8)
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else {
                out.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{1b}": out += "\\e"
            default:
                let hex = String(scalar.value, radix: 16)
                out += scalar.value <= 0xff ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{\(hex)}"
            }
        }
        return out
    }

    /// Control characters, backslash, and the bidi embeddings, overrides and
    /// isolates (U+202A–U+202E, U+2066–U+2069), which reorder what follows.
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7f...0x9f, 0x5c, 0x202a...0x202e, 0x2066...0x2069: true
        default: false
        }
    }
}
