import PorticoCore
import PorticoWire

/// The one place where a domain error becomes a wire status.
extension CallFailure {
    init(_ error: PorticoError) {
        self.init(
            Self.statusCode(error.code),
            error.message,
            reason: error.reason ?? error.code.name,
            metaCode: Int32(clamping: error.meta?.code ?? 0),
            metaSubcode: Int32(clamping: error.meta?.subcode ?? 0)
        )
    }

    /// Any error thrown while serving a call, as the failure its caller is answered with.
    init(any error: any Error) {
        switch error {
        case let failure as CallFailure: self = failure
        case let domain as PorticoError: self.init(domain)
        case let wire as WireError: self.init(wire)
        default: self.init(.internal, "internal error", reason: "INTERNAL")
        }
    }

    static func statusCode(_ code: PorticoError.Code) -> StatusCode {
        switch code {
        case .invalidArgument: .invalidArgument
        case .notFound: .notFound
        case .alreadyExists: .alreadyExists
        case .permissionDenied: .permissionDenied
        case .failedPrecondition: .failedPrecondition
        case .resourceExhausted: .resourceExhausted
        case .unauthenticated: .unauthenticated
        case .unavailable: .unavailable
        case .deadlineExceeded: .deadlineExceeded
        default: .internal
        }
    }

    /// A principal named as the kind it is not.
    static func wrongKind(_ principal: PrincipalID, _ actual: PrincipalKindTag, _ named: PrincipalKindTag) -> CallFailure {
        CallFailure(
            .invalidArgument,
            "principal \(principal) is a \(actual.rawValue), not a \(named.rawValue)",
            reason: "WRONG_PRINCIPAL_KIND",
            metaCode: 100
        )
    }

    static func invalid(_ message: String, field: String) -> CallFailure {
        var failure = CallFailure(.invalidArgument, message, reason: "INVALID_ARGUMENT", metaCode: 100)
        failure.detail.field = field
        return failure
    }
}
