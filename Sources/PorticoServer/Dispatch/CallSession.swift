import PorticoCore

/// What one connection remembers between its calls, so that its steady stream of calls does not
/// verify the same secrets again: the callers its credentials stand for, and the token secrets it asked
/// about. The native transport keeps one per connection; handlers see the token secrets only through
/// their `CallContext`, for the length of a read.
struct CallSession {
    var callers = CallerCache()
    var presentedTokens = PresentedTokenCache()
}

/// The callers a connection's credentials stand for, each verified once. Only a credential that was
/// valid is remembered, and every use re-checks revocation and expiry in the core.
struct CallerCache {
    /// The most credentials remembered; past it the cache starts again.
    static let capacity = 64

    private var callers: [String: Caller] = [:]
    /// The credential of the last call, and its caller: a connection's calls usually carry one
    /// credential, and comparing it is cheaper than hashing it into `callers`.
    private var lastCredential = ""
    private var lastCaller: Caller?

    /// The caller `credential` stands for: remembered, or verified by `verify` and then remembered.
    /// - Throws: what `verify` throws; a credential that fails is not remembered.
    mutating func caller(for credential: String, verify: (String) throws -> Caller) rethrows -> Caller {
        if let last = self.lastCaller, credential == self.lastCredential { return last }
        let caller: Caller
        if let known = self.callers[credential] {
            caller = known
        } else {
            caller = try verify(credential)
            if self.callers.count >= Self.capacity { self.callers.removeAll(keepingCapacity: true) }
            self.callers[credential] = caller
        }
        self.lastCredential = credential
        self.lastCaller = caller
        return caller
    }
}

/// Token secrets already verified on a connection, by the token id they name: a check by token then
/// skips the SHA-256 of its secret. Direct-mapped, so a full cache never empties at once: a new secret
/// takes only its own slot, and the popular tokens of a connection stay. The core still checks the
/// token's revocation and expiry on every use; ids are never reused.
///
/// Its slots are allocated at the first secret stored, so that an empty cache (a write's context, a
/// connection that never checks by token) costs nothing.
struct PresentedTokenCache: Sendable {
    static let slots = 256
    private var entries: [(secret: String, token: TokenID)?] = []

    subscript(secret: String) -> TokenID? {
        get {
            guard !self.entries.isEmpty, let entry = self.entries[Self.slot(of: secret)], entry.secret == secret else {
                return nil
            }
            return entry.token
        }
        set {
            if self.entries.isEmpty {
                guard newValue != nil else { return }
                self.entries = Array(repeating: nil, count: Self.slots)
            }
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
