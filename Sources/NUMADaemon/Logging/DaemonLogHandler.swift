import Foundation
import Logging
import NUMAModel
import NUMAPolicy
import NUMASystem
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

    /// One record as a line ending in "\n". `time` (since the epoch) is
    /// used by the terminal style only.
    public static func line(level: Logger.Level, message: String, metadata: Logger.Metadata,
                            style: Style, time: Duration? = nil) -> String {
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

    /// `2024-05-01T12:00:00.123Z`, for a time since the epoch (UTC has no
    /// leap seconds in this count, so days are 86,400 seconds each).
    public static func timestamp(_ time: Duration) -> String {
        let (seconds, attoseconds) = time.components
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let ofDay = Int(seconds - days * 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
            + "T\(pad(Int64(ofDay / 3600), 2)):\(pad(Int64(ofDay / 60 % 60), 2)):\(pad(Int64(ofDay % 60), 2))"
            + ".\(pad(attoseconds / 1_000_000_000_000_000, 3))Z"
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard
    /// Hinnant's days_from_civil, inverted): what gmtime_r gives, without libc.
    static func civilDate(daysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468                 // from 0000-03-01
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097                                  // [0, 146096]
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)   // from March 1
        let shiftedMonth = (5 * dayOfYear + 2) / 153                            // March is 0
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
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

    private static func now() -> Duration { .seconds(Clock.wallSeconds()) }

    // MARK: - Output

    /// Writes lines to stderr.
    public static let standardError: Sink = writer(fd: 2)

    /// Writes each line to `fd` in one write(2) (the rest, after a rare
    /// short write to a full pipe, in more).
    public static func writer(fd: Int32) -> Sink {
        { line in _ = FileIO.writeAll(fd: fd, Array(line.utf8), name: "the log") }
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
