/// A failure of the wire layer: bytes that do not decode, a frame that breaks the protocol's rules,
/// a value that cannot be encoded. Carries the status the peer should be answered with.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The gRPC canonical status this failure is answered with.
    public var code: StatusCode
    /// A stable upper-case identifier, e.g. `FRAME_TOO_LARGE`; sent as `ErrorDetail.reason`.
    public var reason: String
    /// A human-readable explanation; never contains a secret.
    public var message: String

    public init(code: StatusCode, reason: String, message: String) {
        self.code = code
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(self.code.protoValueName) (\(self.reason)): \(self.message)" }

    static func invalidArgument(_ reason: String, _ message: String) -> WireError {
        WireError(code: .invalidArgument, reason: reason, message: message)
    }
}
