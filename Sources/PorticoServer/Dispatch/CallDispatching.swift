import NIOCore
import PorticoCore
import PorticoWire

/// The head of one call, as the frame header gave it.
struct CallHead {
    let callID: UInt64
    let method: Method
    let credential: String
    let onBehalfOfPersonID: UInt64
    /// When the client stops waiting; nil for no deadline.
    let deadline: NIODeadline?
}

/// A failed call: the status, message and details its response frame carries.
struct CallFailure: Error, Hashable, Sendable {
    var code: StatusCode
    var message: String
    var detail: ErrorDetail

    init(_ code: StatusCode, _ message: String, reason: String, metaCode: Int32 = 0, metaSubcode: Int32 = 0) {
        self.code = code
        self.message = message
        self.detail = ErrorDetail(reason: reason, metaCode: metaCode, metaSubcode: metaSubcode)
    }

    init(_ error: WireError) {
        self.init(error.code, error.message, reason: error.reason)
    }
}

/// Work that must leave the event loop (a write awaits its portfolio's actor and the store): it
/// runs in a task and its answer is written back on the connection's event loop.
typealias DeferredCall = @Sendable () async -> Result<any WireMessage, CallFailure>

/// Turns calls into answers. The connection handler owns the transport; this owns the meaning.
protocol CallDispatching: Sendable {
    /// Answers the call at once through `responder`, or returns the work that will answer it.
    func dispatch(_ head: CallHead, body: ByteBuffer, responder: inout Responder) -> DeferredCall?
}

/// Writes answers into a connection's outbound buffer, flushed once per read batch.
struct Responder {
    var buffer: ByteBuffer
    let arena: WireArena
    let maxFrameBytes: Int
    /// Credentials already authenticated on this connection (see `Dispatcher.authenticate`).
    var callers: [String: Caller] = [:]
    /// The credential of the last call authenticated, and its caller: a connection's calls usually
    /// carry one credential, and comparing it is cheaper than hashing it into `callers`.
    var lastCredential = ""
    var lastCaller: Caller?
    /// Token secrets already verified on this connection, by the token id they name.
    var presentedTokens = PresentedTokenCache()

    /// Decodes a request body with the connection's scratch memory.
    /// - Throws: `CallFailure` INVALID_ARGUMENT when it does not decode.
    func decode<M: WireMessage>(_ type: M.Type, from body: ByteBuffer) throws(CallFailure) -> M {
        do {
            return try M(decoding: body, arena: self.arena)
        } catch let error as WireError {
            throw CallFailure(error)
        } catch {
            throw CallFailure(.invalidArgument, "\(M.protoName) does not decode", reason: "MALFORMED_MESSAGE")
        }
    }

    /// Writes a successful answer; an answer that cannot be sent becomes a failure of its call.
    mutating func succeed(_ callID: UInt64, _ message: some WireMessage) {
        do {
            try Frame.writeResponse(
                callID: callID,
                message: message,
                into: &self.buffer,
                arena: self.arena,
                maxBytes: self.maxFrameBytes
            )
        } catch let error as WireError {
            let code: StatusCode = error.code == .resourceExhausted ? .resourceExhausted : .internal
            self.fail(callID, CallFailure(code, "the answer cannot be sent: \(error.message)", reason: error.reason))
        } catch {
            self.fail(callID, CallFailure(.internal, "the answer cannot be sent", reason: "ENCODING_FAILED"))
        }
    }

    /// Writes a failed answer.
    mutating func fail(_ callID: UInt64, _ failure: CallFailure) {
        let header = FrameHeader(
            kind: .response,
            callID: callID,
            statusCode: failure.code,
            statusMessage: failure.message,
            errorDetail: failure.detail
        )
        do {
            try Frame(header: header).write(into: &self.buffer, arena: self.arena, maxBytes: self.maxFrameBytes)
        } catch {
            // Only a message with a NUL or of megabytes could fail; send the bare status instead.
            let bare = FrameHeader(kind: .response, callID: callID, statusCode: failure.code)
            try? Frame(header: bare).write(into: &self.buffer, arena: self.arena)
        }
    }

    /// Writes a GOAWAY frame.
    mutating func goAway(lastCallID: UInt64, status: StatusCode, message: String) {
        try? Frame(header: .goAway(lastCallID: lastCallID, status: status, message: message))
            .write(into: &self.buffer, arena: self.arena)
    }
}

/// Token secrets already verified on a connection, by the token id they name: a check by token then
/// skips the SHA-256 of its secret. Direct-mapped, so a full cache never empties at once: a new secret
/// takes only its own slot, and the popular tokens of a connection stay. The core still checks the
/// token's revocation and expiry on every use; ids are never reused.
struct PresentedTokenCache {
    static let slots = 256
    private var entries = [(secret: String, token: TokenID)?](repeating: nil, count: PresentedTokenCache.slots)

    subscript(secret: String) -> TokenID? {
        get {
            guard let entry = self.entries[Self.slot(of: secret)], entry.secret == secret else { return nil }
            return entry.token
        }
        set {
            self.entries[Self.slot(of: secret)] = newValue.map { (secret, $0) }
        }
    }

    /// The slot of a secret: its UTF-8 bytes hashed (String's own hash normalizes Unicode first,
    /// which costs far more and means nothing for a secret).
    private static func slot(of secret: String) -> Int {
        var secret = secret
        var hasher = Hasher()
        secret.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        return hasher.finalize() & (Self.slots - 1)
    }
}
