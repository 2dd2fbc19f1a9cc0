// Discovery by the kernel's process events (issue 17), checked in the
// process-shapes guest (its "events" section): a process started while the
// daemon runs is looked at within a second, by the event, not a listing.
import Foundation
import Testing

extension LabTests.ShapeLabTests {
    @Test("a process started while the daemon runs is looked at within 1 s of its start (the kernel's process events)")
    func processEvents() async throws {
        let run = try await Self.run()
        let log = try run.text("standalone-daemon.log")
        #expect(log.contains("process events on"), "\(log.prefix(2000))")
        let launched = try #require(Double(try run.trimmed("events-launch.txt")))
        let pid = try run.trimmed("events-pid.txt")
        let line = try #require(log.split(separator: "\n").first { $0.contains(" discovered ") && $0.contains(" pid=\(pid) ") },
                                "no \"discovered\" line for pid \(pid)")
        #expect(line.contains("via=event"), "\(line)")
        let stamp = try #require(line.split(separator: " ").first.flatMap { Self.wallSeconds(String($0)) }, "\(line)")
        print("shapes events: pid \(pid) looked at \(String(format: "%.2f", stamp - launched)) s after its launch: \(line)")
        #expect(stamp >= launched - 0.01 && stamp - launched <= 1.0)
    }

    /// Seconds since the epoch of the daemon log's stamp ("2026-12-07T07:46:34.271Z").
    static func wallSeconds(_ stamp: String) -> Double? {
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return format.date(from: stamp)?.timeIntervalSince1970
    }
}
