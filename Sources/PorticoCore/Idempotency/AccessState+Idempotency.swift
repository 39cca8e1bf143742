import PorticoReasons

/// Retries: a change made with an idempotency key is answered again, not applied again, when its caller
/// sends the same command with the same key within the window.
extension AccessState {
    /// `text` as `caller`'s idempotency key, once the caller's credential is known to be usable.
    /// - Throws: UNAUTHENTICATED for an unusable credential; INVALID_ARGUMENT (`INVALID_IDEMPOTENCY_KEY`).
    func idempotencyKey(_ text: String, caller: Caller, now: Timestamp) throws -> IdempotencyKey {
        try validateCaller(caller, now: now)
        return try IdempotencyKey(text, scope: caller.idempotencyScope(in: self))
    }

    /// The answer of the change `key` made, when it made one within the window: the same ids, the same
    /// revision, and the secret it showed, unsealed with the key.
    /// - Throws: FAILED_PRECONDITION (`IDEMPOTENCY_KEY_REUSED`) when the key made another command.
    func earlierChange(_ key: IdempotencyKey, _ command: Command, now: Timestamp, policy: IdempotencyPolicy) throws
        -> CommandResult?
    {
        guard let entry = idempotency.entry(key.digest, now: now, policy: policy) else { return nil }
        guard entry.fingerprint == command.fingerprint else {
            throw PorticoError.precondition(
                "idempotency key \"\(key.text)\" was used for another request (revision \(entry.revision)); "
                    + "use a new key for a new request",
                reason: .idempotencyKeyReused)
        }
        return CommandResult(revision: entry.revision, createdID: entry.createdID == 0 ? nil : entry.createdID,
                             secret: entry.sealedSecret.flatMap(key.open), replayed: true)
    }
}
