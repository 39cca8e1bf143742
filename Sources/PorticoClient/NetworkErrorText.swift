import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Socket errors in words, for messages a person reads: `connection refused` rather than
/// `Connection errors: SingleConnectionFailure(target: [IPv4]127.0.0.1/127.0.0.1:7700, error: …)`.
public enum NetworkErrorText {
    /// What went wrong, in lower-case words (the operating system's text for an errno).
    public static func describe(_ error: any Error) -> String {
        switch error {
        case let error as NIOConnectionError:
            if let dns = error.dnsAError ?? error.dnsAAAAError {
                return "cannot resolve \(error.host): \(Self.describe(dns))"
            }
            // Every address tried failed; the first one's cause is the one a person can act on.
            if let first = error.connectionErrors.first { return Self.describe(first.error) }
            return "no address found for \(error.host)"
        case let error as IOError:
            return Self.words(errno: error.errnoCode)
        case let error as ChannelError:
            if case .connectTimeout(let amount) = error {
                return "no answer within \(amount.nanoseconds / 1_000_000) ms"
            }
            return "\(error)"
        case let error as SocketAddressError:
            if case .unknown(let host, _) = error { return "cannot resolve \(host)" }
            return "\(error)"
        default:
            return "\(error)"
        }
    }

    /// `strerror`'s text with a lower-case first letter: `connection refused`.
    static func words(errno code: Int32) -> String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}
