import Foundation
import Glibc
import Logging
import NUMAPolicy
import Synchronization
import Testing
@testable import NUMADaemon

@Suite struct DaemonLogHandlerTests {
    /// Lines a handler wrote.
    final class Captured: Sendable {
        let lines = Mutex<[String]>([])
        var sink: DaemonLogHandler.Sink { { [self] line in self.lines.withLock { $0.append(line) } } }
        var all: [String] { lines.withLock { $0 } }
    }

    @Test func journaldPriorities() {
        let expected: [Logger.Level: Int] = [.critical: 2, .error: 3, .warning: 4, .notice: 5, .info: 6,
                                             .debug: 7, .trace: 7]
        for level in Logger.Level.allCases {
            #expect(DaemonLogHandler.priority(level) == expected[level])
            #expect(DaemonLogHandler.line(level: level, message: "m", metadata: [:], style: .journal)
                == "<\(expected[level]!)>m\n")
        }
    }

    @Test func journalLineHasSortedMetadataAndNoTimestamp() {
        let line = DaemonLogHandler.line(level: .warning, message: "moved pages",
                                         metadata: ["pid": "42", "comm": "postgres", "bytes": "1048576"],
                                         style: .journal)
        #expect(line == "<4>moved pages bytes=1048576 comm=postgres pid=42\n")
    }

    @Test func terminalLineHasUTCTimeWithMillisecondsAndLevel() {
        // 2024-05-01T12:00:00Z plus 123.456789 ms, and one just before a new year.
        let noon: Duration = .seconds(1_714_564_800) + .nanoseconds(123_456_789)
        #expect(DaemonLogHandler.line(level: .info, message: "started", metadata: ["mode": "hybrid"],
                                      style: .terminal, time: noon)
            == "2024-05-01T12:00:00.123Z info started mode=hybrid\n")
        let late: Duration = .seconds(1_704_067_199) + .nanoseconds(999_999_999)
        #expect(DaemonLogHandler.timestamp(late) == "2023-12-31T23:59:59.999Z")
        #expect(DaemonLogHandler.timestamp(.nanoseconds(5_000_000)) == "1970-01-01T00:00:00.005Z")
    }

    @Test func valuesAreQuotedWhenTheyWouldNotSplitCleanly() {
        #expect(DaemonLogHandler.value("/var/lib/numabalance") == "/var/lib/numabalance")
        #expect(DaemonLogHandler.value("a b") == #""a b""#)
        #expect(DaemonLogHandler.value(#"say "hi""#) == #""say \"hi\"""#)
        #expect(DaemonLogHandler.value("k=v") == #""k=v""#)
        #expect(DaemonLogHandler.value("two\nlines") == #""two\nlines""#)
        #expect(DaemonLogHandler.value(#"back\slash and space"#) == #""back\\slash and space""#)
        #expect(DaemonLogHandler.value(#"plain\backslash"#) == #"plain\backslash"#)
        #expect(DaemonLogHandler.value("") == #""""#)
        #expect(DaemonLogHandler.value(.stringConvertible(7)) == "7")
        #expect(DaemonLogHandler.value(.array(["a", "b"])) == #""[a, b]""#)
        #expect(DaemonLogHandler.value(.dictionary(["z": "1", "a": .array(["x"])])) == #""[a: [x], z: 1]""#)
    }

    @Test func aMessageStaysOnOneLine() {
        let line = DaemonLogHandler.line(level: .error, message: "reload refused:\na.yaml:3:1 bad",
                                         metadata: [:], style: .journal)
        #expect(line == "<3>reload refused:\\na.yaml:3:1 bad\n")
        #expect(line.filter { $0 == "\n" }.count == 1)
    }

    @Test func throughALoggerMetadataMergesAndLevelFilters() {
        let captured = Captured()
        var logger = Logger(label: "t") { label in
            DaemonLogHandler(label: label, style: .journal, level: .info, sink: captured.sink)
        }
        logger[metadataKey: "unit"] = "numabalance"
        logger[metadataKey: "pid"] = "1"
        logger.debug("not shown")
        logger.notice("acted", metadata: ["pid": "42", "action": "move pages"])
        #expect(captured.all == [#"<5>acted action="move pages" pid=42 unit=numabalance"# + "\n"])
    }

    @Test func sharedLevelMovesEveryHandlerUntilOneSetsItsOwn() {
        let shared = DaemonLogHandler.SharedLevel(.info)
        var a = DaemonLogHandler(label: "a", style: .journal, sharedLevel: shared, sink: { _ in })
        let b = DaemonLogHandler(label: "b", style: .journal, sharedLevel: shared, sink: { _ in })
        #expect(a.logLevel == .info && b.logLevel == .info)
        shared.level = .debug
        #expect(a.logLevel == .debug && b.logLevel == .debug)
        a.logLevel = .error
        shared.level = .warning
        #expect(a.logLevel == .error)
        #expect(b.logLevel == .warning)
    }

    @Test func styleFollowsJournalStream() {
        #expect(DaemonLogHandler.Style.detect(environment: ["JOURNAL_STREAM": "8:12345"]) == .journal)
        #expect(DaemonLogHandler.Style.detect(environment: [:]) == .terminal)
        #expect(DaemonLogHandler.Style.detect(environment: ["JOURNAL_STREAM": ""]) == .terminal)
    }

    @Test func configLevelsMapToLoggerLevels() {
        let expected: [LogLevel: Logger.Level] = [.error: .error, .warning: .warning, .notice: .notice,
                                                  .info: .info, .debug: .debug]
        for level in LogLevel.allCases {
            #expect(DaemonLogHandler.loggerLevel(level) == expected[level])
        }
    }

    /// The file sink writes whole lines (stderr's is the same on fd 2).
    @Test func writerWritesTheLineWhole() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let writeEnd = fds[1]
        let logger = Logger(label: "t") { label in
            DaemonLogHandler(label: label, style: .journal, sink: DaemonLogHandler.writer(fd: writeEnd))
        }
        logger.info("hello world", metadata: ["k": "v"])
        close(fds[1])
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
        close(fds[0])
        #expect(String(decoding: buffer[0..<max(0, n)], as: UTF8.self) == "<6>hello world k=v\n")
    }
}
