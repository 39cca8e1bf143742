import HashTreeCollections
import NIOCore
import PorticoCore
import PorticoWire

/// Answers every RPC from the core: reads and checks at once on the event loop, from the current
/// snapshot; writes through the core's portfolio lanes, off the event loop.
struct Dispatcher: CallDispatching {
    let portico: Portico
    /// SHA-256 of the operator key; the key itself is not kept.
    let operatorKey: SecretDigest
    let configuration: ServerConfiguration
    let startedAt = PorticoCore.SystemClock().now()

    static let version = "0.1.0"

    func dispatch(_ head: CallHead, body: ByteBuffer, responder: inout Responder) -> DeferredCall? {
        do {
            switch head.method {
            case .ping:
                responder.succeed(head.callID, PingResponse())
            case .getServerInfo:
                responder.succeed(head.callID, self.serverInfo())
            case .checkPermission:
                try self.checkPermission(head, body, &responder)
            case .batchCheckPermissions:
                try self.batchCheck(head, body, &responder)
            case .listAccessibleAssets:
                try self.listAccessibleAssets(head, body, &responder)
            case .listAssetPrincipals:
                try self.listAssetPrincipals(head, body, &responder)
            case .listAuditEvents:
                try self.listAuditEvents(head, body, &responder)
            default:
                let caller = try self.authenticate(head, &responder)
                if let answer = try self.read(head.method, body, caller, responder) {
                    responder.succeed(head.callID, answer)
                } else {
                    return try self.write(head.method, body, caller, responder, deadline: head.deadline)
                }
            }
        } catch {
            responder.fail(head.callID, CallFailure(any: error))
        }
        return nil
    }

    private func serverInfo() -> GetServerInfoResponse {
        GetServerInfoResponse(
            version: Self.version,
            protocolVersion: UInt32(WirePreface.version),
            revision: self.portico.snapshot.revision,
            maxFrameBytes: UInt32(clamping: self.configuration.maxFrameBytes),
            maxBatchChecks: UInt32(clamping: self.configuration.maxBatchChecks),
            startedAtUnixMicros: self.startedAt.milliseconds * 1000
        )
    }

    // MARK: callers

    /// The caller a call's credential stands for, remembered per connection so that a connection's
    /// steady stream of calls does not hash its credential every time. Only a credential that was
    /// valid is remembered, and every use re-checks revocation and expiry in the core.
    func authenticate(_ head: CallHead, _ responder: inout Responder) throws -> Caller {
        guard !head.credential.isEmpty else {
            throw CallFailure(.unauthenticated, "the call needs a credential", reason: "MISSING_CREDENTIAL", metaCode: 190)
        }
        let caller: Caller
        if let last = responder.lastCaller, head.credential == responder.lastCredential {
            caller = last
        } else {
            if let known = responder.callers[head.credential] {
                caller = known
            } else {
                if head.credential.hasPrefix(OperatorKey.prefix) {
                    guard SecretDigest(of: head.credential).constantTimeEquals(self.operatorKey) else {
                        throw CallFailure(.unauthenticated, "credential is not valid", reason: "TOKEN_INVALID", metaCode: 190, metaSubcode: 467)
                    }
                    caller = .operator
                } else {
                    caller = try self.portico.authenticate(head.credential)
                }
                if responder.callers.count >= 64 { responder.callers.removeAll(keepingCapacity: true) }
                responder.callers[head.credential] = caller
            }
            responder.lastCredential = head.credential
            responder.lastCaller = caller
        }
        guard head.onBehalfOfPersonID != 0 else { return caller }
        guard case .service(let credential, nil) = caller else {
            throw CallFailure(
                .permissionDenied,
                "only a service credential may act on behalf of a person",
                reason: "ON_BEHALF_OF_NOT_ALLOWED",
                metaCode: 200
            )
        }
        return .service(credential, onBehalfOf: PrincipalID(head.onBehalfOfPersonID))
    }

    /// The snapshot to answer from: the newest, which must have reached `minRevision`.
    func snapshot(atLeast minRevision: UInt64) throws -> AccessSnapshot {
        try self.portico.snapshot(atLeast: minRevision == 0 ? nil : minRevision)
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

