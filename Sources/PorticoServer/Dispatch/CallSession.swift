import PorticoCore

/// What one connection remembers between its calls, so that its steady stream of calls does not
/// verify the same secrets again: the callers its credentials stand for, and the token secrets it asked
/// about. The native transport keeps one per connection; handlers see the token secrets only through
/// their `CallContext`, for the length of a read. It also carries where the connection reports its
/// calls (metrics, log lines), which the router tells of refused credentials and decisions.
struct CallSession {
    var callers = CallerCache()
    var presentedTokens = PresentedTokenCache()
    var telemetry: ConnectionTelemetry?
}

/// The callers a connection's credentials stand for, each verified once. Only a credential that was
/// valid is remembered, and every use re-checks revocation and expiry in the core.
///
/// Credentials are compared as bytes: `String`'s `==` and hash follow Unicode canonical equivalence, so
/// a credential with U+212A KELVIN SIGN where the real one has `K` would pass for it.
struct CallerCache {
    /// The most credentials remembered; past it the cache starts again.
    static let capacity = 64

    private var callers: [SecretBytes: Caller] = [:]
    /// The credential of the last call, and its caller: a connection's calls usually carry one
    /// credential, and comparing it is cheaper than hashing it into `callers`.
    private var lastCredential = SecretBytes("")
    private var lastCaller: Caller?

    /// The caller `credential` stands for, if the connection presented it before and it was valid.
    mutating func caller(for credential: SecretBytes) -> Caller? {
        if let last = self.lastCaller, credential == self.lastCredential { return last }
        guard let known = self.callers[credential] else { return nil }
        self.lastCredential = credential
        self.lastCaller = known
        return known
    }

    /// Remembers that `credential`, just verified, stands for `caller`.
    mutating func remember(_ credential: SecretBytes, as caller: Caller) {
        if self.callers.count >= Self.capacity { self.callers.removeAll(keepingCapacity: true) }
        self.callers[credential] = caller
        self.lastCredential = credential
        self.lastCaller = caller
    }
}

/// A secret as its UTF-8 bytes: equal only to the same bytes (compared in constant time for a given
/// length), hashed by its bytes. Never `String`'s `==`, which equates canonically equivalent strings.
struct SecretBytes: Hashable, Sendable {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (lhs: SecretBytes, rhs: SecretBytes) -> Bool { Self.equal(lhs.text, rhs.text) }

    func hash(into hasher: inout Hasher) {
        var text = self.text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Whether two secrets have the same UTF-8 bytes; the time depends on the length only.
    static func equal(_ lhs: String, _ rhs: String) -> Bool {
        var lhs = lhs
        var rhs = rhs
        return lhs.withUTF8 { left in
            rhs.withUTF8 { right in
                guard left.count == right.count else { return false }
                var difference: UInt8 = 0
                for index in 0..<left.count { difference |= left[index] ^ right[index] }
                return difference == 0
            }
        }
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
            guard !self.entries.isEmpty, let entry = self.entries[Self.slot(of: secret)],
                SecretBytes.equal(entry.secret, secret)
            else { return nil }
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
    static func slot(of secret: String) -> Int {
        var secret = secret
        var hasher = Hasher()
        secret.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        return hasher.finalize() & (Self.slots - 1)
    }
}
