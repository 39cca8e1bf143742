import NIOCore
import PorticoCore
import PorticoReasons
import PorticoWire

/// Serves every RPC from the core: one handler per RPC (`PorticoServiceHandler`, generated from the
/// proto), whatever the transport. Reads and checks are answered at once from the current snapshot;
/// writes go through the core's commit pipeline.
///
/// A final class, shared by every connection: a call's router refers to it without copying its fields.
final class Dispatcher: PorticoServiceHandler {
    typealias Context = CallContext

    let portico: Portico
    /// SHA-256 of the operator key; the key itself is not kept.
    let operatorKey: SecretDigest
    let configuration: ServerConfiguration
    let startedAt = PorticoCore.SystemClock().now()

    init(portico: Portico, operatorKey: SecretDigest, configuration: ServerConfiguration) {
        self.portico = portico
        self.operatorKey = operatorKey
        self.configuration = configuration
    }

    static let version = "0.1.0"

    /// Serves one call of the native transport: answers it through `responder` at once, or returns the
    /// work that will answer it (a write). `session` is the connection's memory of its callers.
    func dispatch(
        _ head: CallHead,
        body: ByteBuffer,
        responder: inout Responder,
        session: inout CallSession
    ) -> DeferredCall? {
        // The router reaches the connection's responder and session through pointers that live only for
        // this call: no copy of them (a copy would share the output buffer, and the first answer written
        // would copy it whole), and no retain or release of what they hold.
        withUnsafeMutablePointer(to: &responder) { responder in
            withUnsafeMutablePointer(to: &session) { session in
                var router = FrameRouter(
                    dispatcher: self, head: head, body: body, responder: responder, session: session)
                self.route(head.method, to: &router)
                return router.deferred
            }
        }
    }

    // MARK: RPCs that need no credential

    func ping(_ request: PingRequest) -> PingResponse {
        PingResponse()
    }

    func getServerInfo(_ request: GetServerInfoRequest) -> GetServerInfoResponse {
        let status = self.portico.status
        var info = Self.serverInfo(self.configuration, revision: status.appliedRevision, startedAt: self.startedAt)
        info.store = status.store
        info.logHeadRevision = status.headRevision
        info.lagMicros = UInt64(clamping: status.lag.nanoseconds / 1_000)
        info.sinceLastContactMicros = UInt64(clamping: (status.sinceLastContact?.nanoseconds ?? 0) / 1_000)
        info.lastContactKnown = status.sinceLastContact != nil
        info.storeError = status.storeError ?? ""
        return info
    }

    /// What GetServerInfo says: the version, the limits a client must respect, and the revision (0
    /// while the server loads).
    static func serverInfo(_ configuration: ServerConfiguration, revision: UInt64, startedAt: Timestamp)
        -> GetServerInfoResponse
    {
        GetServerInfoResponse(
            version: Self.version,
            protocolVersion: UInt32(WirePreface.version),
            revision: revision,
            maxFrameBytes: UInt32(clamping: configuration.maxFrameBytes),
            maxBatchChecks: UInt32(clamping: configuration.maxBatchChecks),
            startedAtUnixMicros: startedAt.milliseconds * 1000,
            maxCallsInFlight: UInt32(clamping: configuration.maxCallsInFlightPerConnection),
            logHeadRevision: revision
        )
    }

    // MARK: callers

    /// The caller a call's credential stands for, through the caller's connection's cache, with the
    /// person a service acts for. Transport-neutral: the native transport keeps one cache per connection.
    /// - Throws: UNAUTHENTICATED for a missing or invalid credential; PERMISSION_DENIED for a person named
    ///   by anything but a service credential.
    func authenticate(credential: String, onBehalfOf person: UInt64, callers: inout CallerCache) throws -> Caller {
        guard !credential.isEmpty else {
            throw CallFailure(
                .unauthenticated, "the call needs a credential", reason: .missingCredential, metaCode: 190)
        }
        let presented = SecretBytes(credential)
        let caller: Caller
        if let known = callers.caller(for: presented) {
            caller = known
        } else {
            caller = try self.verify(credential)
            callers.remember(presented, as: caller)
        }
        guard person != 0 else { return caller }
        guard case .service(let id, nil) = caller else {
            throw CallFailure(
                .permissionDenied,
                "only a service credential may act on behalf of a person",
                reason: .onBehalfOfNotAllowed,
                metaCode: 200
            )
        }
        return .service(id, onBehalfOf: PrincipalID(person))
    }

    /// The caller a presented secret stands for: the operator key (its digest compared in constant time),
    /// or a token or service credential the core knows.
    private func verify(_ credential: String) throws -> Caller {
        if credential.utf8.starts(with: OperatorKey.prefix.utf8) {
            guard SecretDigest(of: credential).constantTimeEquals(self.operatorKey) else {
                throw CallFailure(
                    .unauthenticated,
                    "credential is not valid",
                    reason: .tokenInvalid,
                    metaCode: 190,
                    metaSubcode: 467
                )
            }
            return .operator
        }
        return try self.portico.authenticate(credential)
    }

    /// The snapshot to answer from: the newest, which must have reached `minRevision`.
    /// - Throws: ``RevisionWait`` when it has not, for the transport to wait for it.
    func snapshot(atLeast minRevision: UInt64) throws -> AccessSnapshot {
        let snapshot = self.portico.snapshot
        guard minRevision <= snapshot.revision else { throw RevisionWait(revision: minRevision) }
        return snapshot
    }
}

/// The operator key's shape: `pok_` and 43 characters of base64url (32 random bytes).
public enum OperatorKey {
    public static let prefix = "pok_"

    /// A new operator key from the system's secure generator.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        // 43 characters of 6 bits each carry 258 bits: more than the 256 of 32 random bytes.
        return prefix + String((0..<43).map { _ in alphabet[Int(generator.next() % 64)] })
    }
}
