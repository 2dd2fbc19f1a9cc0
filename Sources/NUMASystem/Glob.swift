import Glibc

/// Shell-style wildcards, as the shell and the kernel's users write them.
public enum Glob {
    /// `*`, `?` and `[…]` (fnmatch(3)); with `pathname`, a wildcard never
    /// crosses a `/`. A pattern without wildcards is compared as it is.
    public static func matches(_ pattern: String, _ text: String, pathname: Bool = false) -> Bool {
        if !pattern.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" }) { return pattern == text }
        return fnmatch(pattern, text, pathname ? FNM_PATHNAME : 0) == 0
    }
}
