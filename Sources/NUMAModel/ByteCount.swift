/// Byte counts as a person reads them, in binary units.
public enum ByteCount {
    /// "1.5 GiB", "200.0 MiB", "512 B": one decimal always (the CLI's tables
    /// and refusals, where figures line up).
    public static func text(_ value: UInt64) -> String {
        let (amount, unit) = scaled(value)
        guard unit != "B" else { return "\(value) B" }
        // One decimal, a tie to even as printf's %.1f.
        let tenths = Int((amount * 10).rounded(.toNearestOrEven))
        return "\(tenths / 10).\(tenths % 10) \(unit)"
    }

    /// "512 MiB", "1.5 GiB", "120 GiB": a decimal only below 100 (the
    /// engine's reasons, read in a sentence).
    public static func short(_ value: UInt64) -> String {
        let (amount, unit) = scaled(value)
        let rounded = amount >= 100 || unit == "B" ? "\(Int(amount.rounded()))" : "\((amount * 10).rounded() / 10)"
        return "\(rounded) \(unit)"
    }

    /// The value in the largest unit it reaches 1 of (TiB at most).
    private static func scaled(_ value: UInt64) -> (Double, String) {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var amount = Double(value)
        var unit = 0
        while amount >= 1024, unit < units.count - 1 {
            amount /= 1024
            unit += 1
        }
        return (amount, units[unit])
    }
}
