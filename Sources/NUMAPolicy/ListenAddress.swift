/// A loopback address and port for the metrics endpoint: `127.0.0.1:9464`,
/// any 127.0.0.0/8 address, `[::1]:9464` or `localhost:9464`. Anything else
/// is refused: the metrics name every process on the host.
public struct ListenAddress: Hashable, Sendable, CustomStringConvertible {
    /// The host as written without brackets: "127.0.0.1", "::1", "localhost".
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// `host:port`, IPv6 in brackets.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses `host:port` and refuses a host that is not loopback, with the reason.
    public static func parse(_ text: String) -> Result<ListenAddress, UnitError> {
        let form = "expected a loopback host:port such as 127.0.0.1:9464 or [::1]:9464, got \"\(text)\""
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[close...].hasPrefix("]:") else {
                return .failure(UnitError(form))
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                return .failure(UnitError(text.filter { $0 == ":" }.count > 1
                    ? "an IPv6 address goes in brackets: [::1]:9464" : form))
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = UInt16(portText), port > 0 else {
            return .failure(UnitError("\"\(portText)\" is not a port (1…65535)"))
        }
        if let problem = loopbackProblem(String(host)) { return .failure(UnitError(problem)) }
        return .success(ListenAddress(host: String(host), port: port))
    }

    /// Nil for a loopback host; else why it is refused.
    static func loopbackProblem(_ host: String) -> String? {
        if host == "localhost" || host == "::1" { return nil }
        if let octets = ipv4(host) {
            if octets[0] == 127 { return nil }
            if octets.allSatisfy({ $0 == 0 }) {
                return "0.0.0.0 listens on every interface; metrics are served on loopback only "
                    + "(127.0.0.1 or [::1]): put a proxy in front to expose them"
            }
            return "\(host) is not a loopback address; metrics are served on loopback only "
                + "(127.0.0.1 or [::1]): put a proxy in front to expose them"
        }
        if host.contains(":") {
            return host == "::" ? "[::] listens on every interface; metrics are served on loopback only ([::1])"
                : "\(host) is not the IPv6 loopback address; use [::1]"
        }
        return "\"\(host)\" is not a loopback address; use 127.0.0.1, [::1] or localhost"
    }

    private static func ipv4(_ host: String) -> [Int]? {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let octets = parts.compactMap { part -> Int? in
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII) else { return nil }
            return Int(part).flatMap { (0...255).contains($0) ? $0 : nil }
        }
        return octets.count == 4 ? octets : nil
    }
}
