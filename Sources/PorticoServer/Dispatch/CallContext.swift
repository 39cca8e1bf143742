package import NIOCore
package import PorticoCore
package import PorticoReasons
package import PorticoWire

/// The head of one call, as the frame header gave it.
struct CallHead {
    let callID: UInt64
    let method: Method
    let credential: String
    let onBehalfOfPersonID: UInt64
    /// When the client stops waiting; nil for no deadline.
    let deadline: NIODeadline?
    /// The header's idempotency key; empty for none.
    var idempotencyKey = ""
}

/// What a handler learns of its call, whatever the transport: who calls (authenticated before the
/// handler runs, on-behalf-of included) and until when. A read also gets the token secrets already
/// verified on the caller's connection, which it may add to; a write's context has none.
///
/// Package-visible, as the transports outside this module (PorticoGRPC) build it for the handlers.
package struct CallContext: Sendable {
    package let caller: Caller
    /// When the client stops waiting; nil for no deadline.
    package let deadline: NIODeadline?
    /// Token secrets verified on this connection (a check by token skips their SHA-256).
    var presentedTokens = PresentedTokenCache()
    /// A change's idempotency key (frame header or gRPC metadata); nil for none. Reads ignore it.
    var idempotencyKey: String?

    package init(caller: Caller, deadline: NIODeadline?, idempotencyKey: String? = nil) {
        self.caller = caller
        self.deadline = deadline
        self.idempotencyKey = idempotencyKey
    }
}

/// A failed call: the status, message and details its answer carries, whatever the transport.
package struct CallFailure: Error, Hashable, Sendable {
    package var code: StatusCode
    package var message: String
    package var detail: ErrorDetail

    /// A failure with `reason`, whose Meta code and subcode come from the list of reasons.
    /// - Parameter metaCode: what the call site expects Meta's code to be (asserted against the list).
    package init(
        _ code: StatusCode,
        _ message: String,
        reason: ErrorReason,
        metaCode: Int32 = 0,
        metaSubcode: Int32 = 0
    ) {
        self.code = code
        self.message = message
        self.detail = ErrorDetail(
            reason: reason.rawValue,
            metaCode: reason.meta?.code ?? 0,
            metaSubcode: reason.meta?.subcode ?? 0
        )
        assert(code.rawValue == reason.status.rawValue, "\(reason) is sent as \(reason.status.name)")
        assert(metaCode == 0 || metaCode == self.detail.metaCode, "\(reason) has Meta code \(self.detail.metaCode)")
    }

    package init(_ error: WireError) {
        self.init(error.code, error.message, reason: error.errorReason)
    }
}

/// Work that must leave the event loop (a write awaits its portfolio's actor and the store; a read
/// waits for its `min_revision`): it runs in a task and its answer is written back on the
/// connection's event loop.
struct DeferredCall: Sendable {
    /// Whether the work only waits (for a revision), so that closing or draining the connection
    /// cancels it; a write's work is never cancelled, as it may already be in the store.
    let waitsForRevision: Bool
    let run: @Sendable () async -> Result<any WireMessage, CallFailure>

    init(waitsForRevision: Bool = false, _ run: @escaping @Sendable () async -> Result<any WireMessage, CallFailure>) {
        self.waitsForRevision = waitsForRevision
        self.run = run
    }
}
