public import PorticoReasons

/// A failure of the wire layer: bytes that do not decode, a frame that breaks the protocol's rules,
/// a value that cannot be encoded. Carries the status the peer should be answered with.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The gRPC canonical status this failure is answered with.
    public var code: StatusCode
    /// The reason, from the one list of reasons (`ErrorReason`, docs/errors.md).
    public var errorReason: ErrorReason
    /// A human-readable explanation; never contains a secret.
    public var message: String

    /// The reason's stable upper-case spelling, e.g. `FRAME_TOO_LARGE`; sent as `ErrorDetail.reason`.
    public var reason: String { self.errorReason.rawValue }

    public init(code: StatusCode, reason: ErrorReason, message: String) {
        self.code = code
        self.errorReason = reason
        self.message = message
        assert(code.rawValue == reason.status.rawValue, "\(reason) is sent as \(reason.status.name)")
    }

    public var description: String { "\(self.code.protoValueName) (\(self.reason)): \(self.message)" }

    static func invalidArgument(_ reason: ErrorReason, _ message: String) -> WireError {
        WireError(code: .invalidArgument, reason: reason, message: message)
    }
}
