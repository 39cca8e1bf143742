import HashTreeCollections
import PorticoReasons

/// Turning a presented secret into a caller, from the snapshot alone (no await).
extension AccessSnapshot {
    /// The caller a presented token or service-credential secret stands for.
    ///
    /// The id inside the secret finds the record; the SHA-256 of the whole secret must equal the stored
    /// digest (compared in constant time). The operator key is checked by the server, not here.
    /// - Throws: UNAUTHENTICATED (Meta 190/467 invalid or revoked, 190/463 expired).
    public func authenticate(_ secret: String, now: Timestamp) throws -> Caller {
        let invalid = PorticoError(.unauthenticated, "credential is not valid", reason: .tokenInvalid,
                                   meta: .tokenInvalid)
        guard let (prefix, id) = SecretFormat.parse(secret) else { throw invalid }
        let digest = SecretDigest(of: secret)
        // The prefix compared as bytes, as every part of a secret is (String's `==` is Unicode-aware).
        switch prefix {
        case _ where prefix.utf8.elementsEqual(SecretFormat.tokenPrefix.utf8):
            guard let token = state.tokens[TokenID(id)], token.secretDigest.constantTimeEquals(digest) else {
                throw invalid
            }
            _ = try state.validToken(token.id, now: now)
            return .systemUser(token.id)
        case _ where prefix.utf8.elementsEqual(SecretFormat.credentialPrefix.utf8):
            guard let credential = state.credentials[CredentialID(id)],
                  credential.secretDigest.constantTimeEquals(digest), !credential.revoked
            else { throw invalid }
            return .service(credential.id)
        default:
            throw invalid
        }
    }
}
