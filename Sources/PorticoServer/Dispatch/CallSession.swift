import PorticoCore

/// What one connection remembers between its calls, so that its steady stream of calls does not
/// verify the same secrets again: the callers its credentials stand for, and (through its event loop's
/// cache, shared with the loop's other connections) the token secrets checked. The native transport
/// keeps one per connection; handlers see the token secrets only through their `CallContext`, for the
/// length of a read. It also carries where the connection reports its calls (metrics, log lines), which
/// the router tells of refused credentials and decisions.
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
                left.count == right.count && Self.equal(UnsafeRawBufferPointer(left), UnsafeRawBufferPointer(right))
            }
        }
    }

    /// Whether two runs of bytes of the same length are equal, eight bytes at a time: every word of both
    /// is read and their differences or-ed together whatever they hold, so the time depends on the length
    /// only. A length that is not a multiple of eight ends on a word that overlaps the one before it.
    /// Measured with callgrind per call: a 47-byte credential compared with the last one costs 242
    /// instructions this way against 264 byte by byte; most of it is reaching the strings' bytes.
    static func equal(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Bool {
        precondition(left.count == right.count)
        let count = left.count
        guard count >= 8 else {
            var difference: UInt8 = 0
            for index in 0..<count { difference |= left[index] ^ right[index] }
            return difference == 0
        }
        var difference: UInt64 = 0
        var offset = 0
        while offset < count - 8 {
            difference |=
                left.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                ^ right.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            offset &+= 8
        }
        difference |=
            left.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            ^ right.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        return difference == 0
    }
}

/// The token secrets verified on the caller's event loop, as a call sees them: a check by token whose
/// secret was verified before (on any connection of the loop) skips its SHA-256. A view of the loop's
/// ``VerifiedTokenCache``; one made without a cache (a write's context) remembers nothing.
struct PresentedTokenCache: Sendable {
    private let shared: VerifiedTokenCache?

    init(_ shared: VerifiedTokenCache? = nil) {
        self.shared = shared
    }

    subscript(secret: String) -> TokenID? {
        get { self.shared?.token(for: secret) }
        nonmutating set {
            if let newValue {
                self.shared?.remember(secret, as: newValue)
            } else {
                self.shared?.forget(secret)
            }
        }
    }
}
