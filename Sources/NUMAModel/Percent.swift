/// A share (0...1) as a percentage, by one rule for every text: "99.9%" in
/// tables and reports, "12 %" in reasons and the log. No Foundation here:
/// the model stays free of it.
public enum Percent {
    /// "99.9%" with `digits` decimals; "-" when unknown or not a number.
    public static func text(_ share: Double?, digits: Int = 1) -> String {
        guard let share, share.isFinite else { return "-" }
        let places = max(0, min(digits, 6))
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(share) * 100 * scale).rounded()
        guard scaled < 1e15 else { return share < 0 ? "-∞%" : "∞%" }
        let units = UInt64(scaled), divisor = UInt64(scale)
        var digitsText = "\(units / divisor)"
        if places > 0 {
            let fraction = "\(units % divisor)"
            digitsText += "." + String(repeating: "0", count: places - fraction.count) + fraction
        }
        return (share < 0 && units > 0 ? "-" : "") + digitsText + "%"
    }

    /// "12 %": whole percent, in the daemon's reasons and log fields.
    public static func whole(_ share: Double) -> String {
        guard share.isFinite else { return "- %" }
        return "\(Int((share * 100).rounded())) %"
    }
}
