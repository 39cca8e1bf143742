import PorticoCore
import PorticoWire

/// Watch: the handler checks the call and opens the feed; the transport streams it.
extension Dispatcher {
    /// Opens a Watch stream: authorized as ListAuditEvents (the operator and services every portfolio
    /// or one, an admin its own), from `after_revision`, which this node must have reached.
    func watch(_ request: WatchRequest, context: inout CallContext) throws -> WatchFeed {
        try self.portico.watch(
            as: context.caller,
            after: request.afterRevision,
            portfolio: request.portfolioID == 0 ? nil : PortfolioID(request.portfolioID)
        )
    }

    /// The item of a Watch stream for `event`, described from `snapshot` (the snapshot it was read from).
    static func watchEvent(_ event: PorticoCore.AuditEvent, _ snapshot: AccessSnapshot) -> WatchEvent {
        WatchEvent(event: Self.auditEvent(event, snapshot.state))
    }

    /// How a Watch stream that ends now tells its client where to resume: `failure` with
    /// `ErrorDetail.resume_revision` set to the feed's cursor.
    static func streamEnd(_ failure: CallFailure, resumeAfter revision: UInt64) -> CallFailure {
        var failure = failure
        failure.detail.resumeRevision = revision
        return failure
    }
}
