import Crypto
import HashTreeCollections
import PorticoReasons

/// How long the core remembers an idempotency key, and how many it remembers at most.
public struct IdempotencyPolicy: Hashable, Sendable {
    /// A retry within this long of the change it repeats is answered with that change's answer.
    public var windowMilliseconds: Int64
    /// The most keys remembered; beyond it the oldest are forgotten first, window or not.
    public var capacity: Int

    public init(windowMilliseconds: Int64 = 24 * 3_600_000, capacity: Int = 1_000_000) {
        self.windowMilliseconds = max(1, windowMilliseconds)
        self.capacity = max(1, capacity)
    }

    public static let standard = IdempotencyPolicy()
}

/// What the core keeps of an idempotency key: the first 16 bytes of a SHA-256 of the caller and the key.
///
/// 128 bits: one caller cannot make its digest meet another's without knowing the other's key, and a
/// caller's own collisions (2^64 tries) only confuse its own retries. The words come from SHA-256, so
/// the low word is a good hash-tree hash as it is.
public struct IdempotencyDigest: Hashable, Sendable, Codable {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The digest's 16 bytes, big-endian words (as stored).
    public var bytes: [UInt8] {
        withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { Array($0) }
    }

    /// A digest from its 16 bytes; nil for another length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<8 {
            high = high << 8 | UInt64(bytes[index])
            low = low << 8 | UInt64(bytes[index + 8])
        }
        self.init(high: high, low: low)
    }

    /// The first 16 bytes of the SHA-256 of `parts`, each followed by a 0 byte.
    static func of(_ parts: [ArraySlice<UInt8>]) -> IdempotencyDigest {
        var hasher = SHA256()
        for part in parts {
            hasher.update(data: part)
            hasher.update(data: [0])
        }
        return IdempotencyDigest(bytes: Array(hasher.finalize().prefix(16)))!
    }

    /// SHA-256 is uniform: the low word needs no further mixing (see `EntityID._rawHashValue(seed:)`).
    public func _rawHashValue(seed: Int) -> Int {
        Int(truncatingIfNeeded: low ^ UInt64(truncatingIfNeeded: seed))
    }
}

/// An idempotency key as a change carries it, with the digest and the secret seal derived from it.
struct IdempotencyKey {
    static let maxLength = 128

    let text: String
    /// Who used it: keys are the caller's own, so two callers' equal keys are two keys.
    let scope: String
    let digest: IdempotencyDigest

    /// - Throws: INVALID_ARGUMENT (`INVALID_IDEMPOTENCY_KEY`) for an empty or over-long key, or one with a
    ///   character outside printable ASCII.
    init(_ text: String, scope: String) throws {
        try Self.validate(text)
        let bytes = Array(text.utf8)
        self.text = text
        self.scope = scope
        self.digest = IdempotencyDigest.of([ArraySlice("portico.idempotency".utf8), ArraySlice(scope.utf8),
                                            ArraySlice(bytes)])
    }

    /// Fails unless `text` is a well-formed key. Its length is read before any byte, so that an over-long
    /// key (a header may carry megabytes) is refused without being copied or scanned: the sequencer calls
    /// this before it takes its lock.
    /// - Throws: INVALID_ARGUMENT (`INVALID_IDEMPOTENCY_KEY`).
    static func validate(_ text: String) throws {
        let count = text.utf8.count
        guard count >= 1, count <= Self.maxLength, text.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw PorticoError.invalid(
                "an idempotency key has 1 to \(Self.maxLength) printable ASCII characters (0x21 to 0x7E)",
                reason: .invalidIdempotencyKey)
        }
    }

    /// The key a secret is sealed under: derived from the idempotency key and its caller alone, so the
    /// stored seal opens only for a retry that presents the key.
    private var sealingKey: SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Array(text.utf8)),
                               salt: Array("portico.idempotency.seal".utf8), info: Array(scope.utf8),
                               outputByteCount: 32)
    }

    /// `secret` sealed with ChaCha20-Poly1305 (nonce, ciphertext and tag).
    func seal(_ secret: String) -> [UInt8] {
        // Sealing with a fresh nonce cannot fail for a 32-byte key.
        guard let box = try? ChaChaPoly.seal(Array(secret.utf8), using: sealingKey) else { return [] }
        return Array(box.combined)
    }

    /// The secret `sealed` holds, if it opens under this key.
    func open(_ sealed: [UInt8]) -> String? {
        guard let box = try? ChaChaPoly.SealedBox(combined: sealed),
              let bytes = try? ChaChaPoly.open(box, using: sealingKey)
        else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// What a change made with an idempotency key stores beside its command (`Change.idempotency`).
public struct IdempotencyRecord: Hashable, Sendable, Codable {
    public let keyDigest: IdempotencyDigest
    /// The secret the change showed, sealed under the key (`IdempotencyKey.seal`); nil when it showed none.
    public let sealedSecret: [UInt8]?

    public init(keyDigest: IdempotencyDigest, sealedSecret: [UInt8]?) {
        self.keyDigest = keyDigest
        self.sealedSecret = sealedSecret
    }
}

extension Caller {
    /// Whose keys an idempotency key is among: the operator's, a service credential's, or a system
    /// user's (whichever of its tokens it calls with, so that a retry after a token rotation still counts).
    func idempotencyScope(in state: AccessState) -> String {
        switch self {
        case .operator: "operator"
        case .service(let id, _): "service:\(id)"
        case .systemUser(let token): "system_user:\(state.tokens[token]?.principal.rawValue ?? 0)"
        }
    }
}
