import PorticoCore
import PorticoReasons
import PorticoWire

/// The one place where a domain error becomes a wire status.
extension CallFailure {
    /// A domain error as its status, with the Meta code its reason has in the list of reasons.
    init(_ error: PorticoError) {
        self.init(Self.statusCode(error.code), error.message, reason: error.errorReason)
    }

    /// Any error thrown while serving a call, as the failure its caller is answered with.
    package init(any error: any Error) {
        switch error {
        case let failure as CallFailure: self = failure
        case let domain as PorticoError: self.init(domain)
        case let wire as WireError: self.init(wire)
        case let wait as RevisionWait:
            // A transport that cannot park the call answers as a node that has not reached it.
            self.init(
                .unavailable, "revision \(wait.revision) is not visible yet", reason: .revisionNotVisible)
        default: self.init(.internal, "internal error", reason: .`internal`)
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
    static func wrongKind(_ principal: PrincipalID, _ actual: PrincipalKindTag, _ named: PrincipalKindTag)
        -> CallFailure
    {
        CallFailure(
            .invalidArgument,
            "principal \(principal) is a \(actual.rawValue), not a \(named.rawValue)",
            reason: .wrongPrincipalKind,
            metaCode: 100
        )
    }

    static func invalid(_ message: String, field: String) -> CallFailure {
        var failure = CallFailure(.invalidArgument, message, reason: .invalidArgument, metaCode: 100)
        failure.detail.field = field
        return failure
    }
}
