/// MPOL_INTERLEAVE's layout, as the moves that spread existing pages
/// reproduce it: aligned 2 MiB chunks (a huge page) in turn over n nodes.
/// The one chunker of the engine, the policies and `rebalance`.
public enum InterleaveChunks {
    public static let bytes: UInt64 = 2 << 20

    /// Calls `body(start, end, slot)` for each piece of [start, end) cut at
    /// chunk boundaries, `slot` counting on from `turn` modulo `slots`.
    /// Returns the turn after the last piece, for the next range.
    @discardableResult
    public static func forEach(start: UInt64, end: UInt64, turn: Int, slots: Int,
                               _ body: (_ start: UInt64, _ end: UInt64, _ slot: Int) -> Void) -> Int {
        guard slots > 0 else { return turn }
        var from = start
        var i = turn
        while from < end {
            let to = min(end, (from / bytes + 1) * bytes)
            body(from, to, i % slots)
            i += 1
            from = to
        }
        return i
    }

    /// How many chunks [start, end) touches.
    public static func count(start: UInt64, end: UInt64) -> Int {
        end > start ? Int((end - 1) / bytes - start / bytes + 1) : 0
    }
}
