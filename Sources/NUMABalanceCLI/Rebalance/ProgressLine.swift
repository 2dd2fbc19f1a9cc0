import Foundation
import NUMAActuation
import NUMABalancing
import NUMASystem
import Synchronization

/// A progress line on the terminal (stderr) for moves that last: shown after
/// a second, redrawn at most ten times a second, cleared at the end.
final class ProgressLine: MoveProgressSink {
    private struct State {
        var lastDraw = 0.0
        var shown = false
    }
    private let state = Mutex(State())

    func show(_ progress: MoveProgress) {
        guard progress.seconds >= 1 else { return }
        let now = Date().timeIntervalSince1970
        let draw = state.withLock { s -> Bool in
            guard now - s.lastDraw >= 0.1 || progress.bytesDone == progress.bytesTotal else { return false }
            s.lastDraw = now
            s.shown = true
            return true
        }
        guard draw else { return }
        let percent = progress.bytesTotal > 0 ? Int(Double(progress.bytesDone) * 100 / Double(progress.bytesTotal)) : 100
        let rate = progress.seconds > 0 ? Double(progress.bytesDone) / progress.seconds : 0
        let line = "\r\(progress.action): \(Output.bytes(progress.bytesDone)) of \(Output.bytes(progress.bytesTotal)) "
            + "(\(percent) %), \(Output.bytes(UInt64(rate)))/s, \(String(format: "%.1f", progress.seconds)) s\u{1B}[K"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        if state.withLock({ $0.shown }) { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// SIGINT and SIGTERM during a move: stop between batches, report what was done.
enum InterruptStop {
    static let shared = Handler()

    final class Handler: Sendable {
        let stop = StopSignal()
        func install() -> StopSignal {
            Signals.handle(Signals.interrupt, with: interruptHandler)
            Signals.handle(Signals.terminate, with: interruptHandler)
            return stop
        }
    }
}

/// A C signal handler: an atomic store, nothing else.
private func interruptHandler(_ signal: Int32) {
    InterruptStop.shared.stop.request()
}
