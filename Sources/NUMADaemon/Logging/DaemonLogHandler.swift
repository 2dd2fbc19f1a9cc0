import Foundation
import Glibc
import Logging
import NUMAModel
import NUMAPolicy
import Synchronization

/// The daemon's swift-log handler: one line per record on stderr, the
/// message first, then the metadata as `key=value` sorted by key.
///
/// Under systemd (JOURNAL_STREAM set) a line starts with journald's
/// priority, `<6>started`, and has no timestamp (the journal adds one); in a
/// terminal it starts with an ISO-8601 UTC time and the level name. Each
/// line goes out in one write(2), so lines from threads never interleave.
public struct DaemonLogHandler: LogHandler, Sendable {
    /// How a line begins.
    public enum Style: Sendable, Hashable {
        /// `<N>` (sd-daemon.h priority), no timestamp: journald stamps it.
        case journal
        /// `2024-05-01T12:00:00.123Z info `.
        case terminal

        /// `.journal` when stderr is connected to the journal (systemd sets JOURNAL_STREAM).
        public static func detect(environment: [String: String] = ProcessInfo.processInfo.environment) -> Style {
            (environment["JOURNAL_STREAM"] ?? "").isEmpty ? .terminal : .journal
        }
    }

    /// Where finished lines go (each ends in a newline).
    public typealias Sink = @Sendable (String) -> Void

    public let label: String
    public let style: Style
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private var ownLevel: Logger.Level?
    private let sharedLevel: SharedLevel?
    private let sink: Sink

    /// A handler writing to `sink` (stderr by default). With `sharedLevel`
    /// its level follows the shared one until set on this handler.
    public init(label: String, style: Style = .detect(), level: Logger.Level = .info,
                sharedLevel: SharedLevel? = nil, metadataProvider: Logger.MetadataProvider? = nil,
                sink: @escaping Sink = DaemonLogHandler.standardError) {
        self.label = label
        self.style = style
        self.ownLevel = sharedLevel == nil ? level : nil
        self.sharedLevel = sharedLevel
        self.metadataProvider = metadataProvider
        self.sink = sink
    }

    public var logLevel: Logger.Level {
        get { ownLevel ?? sharedLevel?.level ?? .info }
        set { ownLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        if let error = event.error { merged["error"] = .string("\(error)") }
        sink(Self.line(level: event.level, message: event.message.description, metadata: merged,
                       style: style, time: style == .terminal ? Self.now() : nil))
    }

    // MARK: - Formatting

    /// One record as a line ending in "\n". `time` (seconds and nanoseconds
    /// since the epoch) is used by the terminal style only.
    public static func line(level: Logger.Level, message: String, metadata: Logger.Metadata,
                            style: Style, time: timespec? = nil) -> String {
        var line: String
        switch style {
        case .journal:
            line = "<\(priority(level))>"
        case .terminal:
            line = timestamp(time ?? now()) + " " + level.rawValue + " "
        }
        line += escaped(message)
        for key in metadata.keys.sorted() {
            line += " " + key.map { $0.isWhitespace || $0 == "=" ? "_" : String($0) }.joined()
            line += "=" + value(metadata[key]!)
        }
        return line + "\n"
    }

    /// journald's priority for a level (sd-daemon.h: SD_CRIT 2 … SD_DEBUG 7).
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .critical: 2
        case .error: 3
        case .warning: 4
        case .notice: 5
        case .info: 6
        case .debug, .trace: 7
        }
    }

    /// `2024-05-01T12:00:00.123Z`.
    public static func timestamp(_ time: timespec) -> String {
        var seconds = time.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))"
            + "T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
            + ".\(pad(Int32(time.tv_nsec / 1_000_000), 3))Z"
    }

    /// A metadata value, quoted when it holds a space, quote, `=` or control
    /// character (or is empty), so `key=value` pairs split unambiguously.
    public static func value(_ value: Logger.Metadata.Value) -> String {
        let text = plain(value)
        let needsQuotes = text.isEmpty || text.unicodeScalars.contains {
            $0 == " " || $0 == "\"" || $0 == "=" || $0.properties.generalCategory == .control
                || $0.properties.isWhitespace
        }
        guard needsQuotes else { return text }
        // Backslashes and control characters (ESC included) as TerminalText
        // writes them, then the quotes.
        return "\"" + TerminalText.escaped(text).replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// Lists as `[a, b]`, dictionaries as `[k: v]` sorted by key, without
    /// the quotes Swift's description puts around strings.
    private static func plain(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let list): "[" + list.map(plain).joined(separator: ", ") + "]"
        case .dictionary(let map):
            "[" + map.keys.sorted().map { "\($0): \(plain(map[$0]!))" }.joined(separator: ", ") + "]"
        }
    }

    /// A message stays on its line and drives no terminal: newlines become
    /// `\n`, ESC `\e`, other control characters `\xNN` (TerminalText).
    private static func escaped(_ message: String) -> String {
        guard message.unicodeScalars.contains(where: { TerminalText.needsEscape($0) && $0 != "\\" }) else { return message }
        return TerminalText.escaped(message)
    }

    private static func now() -> timespec {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return time
    }

    // MARK: - Output

    /// Writes lines to stderr.
    public static let standardError: Sink = writer(fd: 2)

    /// Writes each line to `fd` in one write(2) (the rest, after a rare
    /// short write to a full pipe, in more).
    public static func writer(fd: Int32) -> Sink {
        { line in
            let bytes = Array(line.utf8)
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 { if errno == EINTR { continue }; return }
                offset += n
            }
        }
    }

    // MARK: - Levels

    /// A level every handler made by `bootstrap(level:)` follows, so a
    /// reload that changes `logLevel` takes effect in every logger at once.
    public final class SharedLevel: Sendable {
        private let index: Atomic<Int>

        public init(_ level: Logger.Level) { index = Atomic(Self.levels.firstIndex(of: level) ?? 2) }

        public var level: Logger.Level {
            get { Self.levels[index.load(ordering: .relaxed)] }
            set { index.store(Self.levels.firstIndex(of: newValue) ?? 2, ordering: .relaxed) }
        }

        private static let levels = Logger.Level.allCases
    }

    /// The config's `logLevel` as swift-log's level.
    public static func loggerLevel(_ level: LogLevel) -> Logger.Level {
        switch level {
        case .error: .error
        case .warning: .warning
        case .notice: .notice
        case .info: .info
        case .debug: .debug
        }
    }

    /// Makes every Logger of the process use this handler (stderr, style
    /// detected from the environment) at `level`. Call once, first thing:
    /// swift-log allows one bootstrap per process. Set `level` on the
    /// returned object to change it later (a reload).
    @discardableResult
    public static func bootstrap(level: LogLevel) -> SharedLevel {
        let shared = SharedLevel(loggerLevel(level))
        let style = Style.detect()
        LoggingSystem.bootstrap { label in
            DaemonLogHandler(label: label, style: style, sharedLevel: shared)
        }
        return shared
    }
}
