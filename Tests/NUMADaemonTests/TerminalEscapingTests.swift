import Foundation
import Logging
import NUMAModel
import Testing
@testable import NUMADaemon

/// Process names are anyone's to choose: escape sequences and newlines in
/// them must reach neither root's terminal nor the log as themselves
/// (issue 15, point 12; security review §5.2).
@Suite("Hostile process names in human output")
struct TerminalEscapingTests {
    /// A name that clears the screen, sets the window title, forges a log
    /// line at emergency priority, and reverses what follows.
    static let hostile = "x\u{1b}[2J\u{1b}]0;pwn\u{07}\n<0>EMER\u{9b}1m\u{202e}gpj.exe\\n"

    /// No control character but the newlines between lines, no bidi override.
    static func controlBytes(_ text: String) -> [UInt32] {
        text.unicodeScalars.filter { $0 != "\n" && TerminalText.needsEscape($0) && $0 != "\\" }.map(\.value)
    }

    @Test("escaped: every control character, bidi override and backslash written out; plain names unchanged")
    func escaping() {
        #expect(TerminalText.escaped("postgres: checkpointer") == "postgres: checkpointer")
        #expect(TerminalText.escaped("naïve ✓") == "naïve ✓")
        #expect(TerminalText.escaped(Self.hostile)
            == "x\\e[2J\\e]0;pwn\\x07\\n<0>EMER\\x9b1m\\u{202e}gpj.exe\\\\n")
        #expect(TerminalText.escaped("\u{0}\u{7f}\t\r") == "\\x00\\x7f\\t\\r")
    }

    @Test("status: a hostile comm stays on its own row, with no control byte")
    func statusRow() {
        var report = StatusReport()
        var process = StatusReport.Process(pid: 4242, comm: Self.hostile, standing: "balanced", policy: "default", mode: "auto")
        process.lastReason = "why " + Self.hostile
        report.processes = [process]
        let text = report.text
        #expect(Self.controlBytes(text).isEmpty, "control bytes in status: \(Self.controlBytes(text))")
        let rows = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(rows.filter { $0.hasPrefix("4242 ") }.count == 1)
        #expect(!rows.contains { $0.hasPrefix("<0>EMER") }, "a forged line:\n\(text)")
    }

    @Test("log: a hostile comm in metadata or message stays on one line, with no control byte")
    func logLine() {
        for style in [DaemonLogHandler.Style.journal, .terminal] {
            let line = DaemonLogHandler.line(level: .info, message: "observed " + Self.hostile,
                                             metadata: ["comm": .string(Self.hostile)], style: style)
            #expect(line.hasSuffix("\n") && line.dropLast().split(separator: "\n").count == 1, "\(line)")
            #expect(Self.controlBytes(String(line.dropLast())).isEmpty, "control bytes in \(line.debugDescription)")
        }
    }
}
