import HashTreeCollections

/// Finding the token a presented secret names, for a check "by token".
extension AccessSnapshot {
    /// The token whose secret is `secret`, whatever its state (a check then denies a revoked or
    /// expired token with its reason), or nil when no token has this secret. The digest of the
    /// presented secret is compared with the stored one in constant time.
    public func token(presentedSecret secret: String) -> TokenID? {
        guard let (prefix, id) = SecretFormat.parse(secret), prefix.utf8.elementsEqual(SecretFormat.tokenPrefix.utf8),
            let record = state.tokens[TokenID(id)],
            record.secretDigest.constantTimeEquals(SecretDigest(of: secret))
        else { return nil }
        return record.id
    }
}
