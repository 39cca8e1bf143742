/// Settings of one call, beside its request message. Unset values fall back to the caller's defaults
/// (a client's default credential, no deadline).
public struct CallOptions: Sendable, Hashable {
    /// The secret sent in the frame header: an operator key, a service credential or a token.
    public var credential: String?
    /// With a service credential: the person on whose behalf the call is made.
    public var onBehalfOfPersonID: UInt64?
    /// How long to wait for the answer; sent to the server as the call's deadline.
    public var timeout: Duration?
    /// A change's idempotency key (docs/protocol.md, "Idempotent changes"): the server applies a change
    /// sent twice with one key once, and answers the second as the first. Nil: `PorticoClient` makes
    /// one for each change (unless configured not to), so that it may resend a change whose answer was
    /// lost; `PorticoConnection` sends none. Reads send none.
    public var idempotencyKey: String?

    public init(credential: String? = nil, onBehalfOfPersonID: UInt64? = nil, timeout: Duration? = nil,
                idempotencyKey: String? = nil) {
        self.credential = credential
        self.onBehalfOfPersonID = onBehalfOfPersonID
        self.timeout = timeout
        self.idempotencyKey = idempotencyKey
    }
}

/// Something that can make Portico calls: a connection or a client. The generated extension gives it
/// one typed method per RPC (`checkPermission(_:options:)`, `createPortfolio(_:options:)`...).
public protocol PorticoCalling: Sendable {
    /// Sends `request` as a call of `rpc` and waits for its answer.
    /// - Throws: `PorticoStatusError` when the server answers with a status other than OK, or when the
    ///   call cannot be completed (connection lost: UNAVAILABLE; deadline: DEADLINE_EXCEEDED).
    func call<RPC: PorticoRPC>(_ rpc: RPC.Type, _ request: RPC.Request, options: CallOptions) async throws
        -> RPC.Response
}

/// A call that ended with a status other than OK, as the server (or the client, for a lost
/// connection or a passed deadline) reported it.
public struct PorticoStatusError: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: StatusCode
    public var message: String
    public var detail: ErrorDetail?

    public init(code: StatusCode, message: String, detail: ErrorDetail? = nil) {
        self.code = code
        self.message = message
        self.detail = detail
    }

    /// The status a failed response frame carries.
    public init(header: FrameHeader) {
        self.init(code: header.statusCode, message: header.statusMessage, detail: header.errorDetail)
    }

    public var description: String {
        let reason = self.detail.map { $0.reason.isEmpty ? "" : " [\($0.reason)]" } ?? ""
        return "\(self.code.protoValueName)\(reason): \(self.message)"
    }
}
