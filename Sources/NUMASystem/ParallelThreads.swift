import Glibc

/// Work split over threads that run at once: part 0 on the calling thread,
/// each other part on a pthread of its own, all joined before `run`
/// returns. A new thread inherits its creator's CPU affinity, so a mover
/// pinned to a node splits a move over that node's CPUs and the kernel's
/// copies run there. (Not GCD: its pool threads come pinned wherever their
/// creator was.)
public enum ParallelThreads {
    private final class Part {
        let index: Int
        let body: @Sendable (Int) -> Void
        init(index: Int, body: @escaping @Sendable (Int) -> Void) {
            self.index = index
            self.body = body
        }
    }

    /// Calls `body(i)` for every i in 0..<parts, at once. A part whose
    /// thread cannot be created runs on the calling thread after part 0.
    public static func run(parts: Int, _ body: @escaping @Sendable (Int) -> Void) {
        guard parts > 1 else {
            if parts == 1 { body(0) }
            return
        }
        var started: [pthread_t] = []
        var inline: [Int] = []
        for index in 1..<parts {
            let context = Unmanaged.passRetained(Part(index: index, body: body)).toOpaque()
            var handle = pthread_t()
            let rc = pthread_create(&handle, nil, { raw in
                guard let raw else { return nil }
                let part = Unmanaged<Part>.fromOpaque(raw).takeRetainedValue()
                part.body(part.index)
                return nil
            }, context)
            if rc == 0 {
                started.append(handle)
            } else {
                Unmanaged<Part>.fromOpaque(context).release()
                inline.append(index)
            }
        }
        body(0)
        for index in inline { body(index) }
        for handle in started { pthread_join(handle, nil) }
    }
}
