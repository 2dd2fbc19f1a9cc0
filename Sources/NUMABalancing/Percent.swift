import Foundation

/// "99.9%" for a share, "-" when unknown: the one-shot report's shares.
public enum Percent {
    public static func text(_ share: Double?, digits: Int = 1) -> String {
        guard let share else { return "-" }
        return String(format: "%.\(digits)f%%", share * 100)
    }
}
