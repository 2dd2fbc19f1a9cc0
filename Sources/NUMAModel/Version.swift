/// numabalance's version: `--version`, the package's, `numabalance_build_info`.
public enum NumaBalanceVersion {
    public static let string = "0.1.0"
}
