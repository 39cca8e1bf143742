import PorticoReasons

/// What a command needs beyond the state: who asks, the time, and where secrets come from.
struct ApplyContext {
    enum SecretSource {
        /// Generate fresh secrets and record their digests.
        case live
        /// Replay: reuse recorded digests in order.
        case replay([SecretDigest])
    }

    /// The idempotency key a change is made with: the key itself (live), or what its change stored (replay).
    enum IdempotencySource {
        case live(IdempotencyKey)
        case replay(IdempotencyRecord)
    }

    let caller: Caller
    let now: Timestamp
    private var source: SecretSource
    /// How long idempotency keys are remembered, and how many.
    var policy = IdempotencyPolicy.standard
    var idempotency: IdempotencySource?
    private(set) var digests: [SecretDigest] = []
    private(set) var secret: String?
    private(set) var effects: [String] = []
    /// What the change acted on, for its audit event (set by every command).
    private(set) var target = ""
    private(set) var targetKind = AuditEvent.TargetKind.portfolio
    private(set) var targetID: UInt64 = 0
    /// The portfolio the change belongs to; nil for service-wide changes (service credentials).
    private(set) var portfolio: PortfolioID?
    /// The revision this change will create; set by `AccessState.apply` before the command runs, so a
    /// record can say when it was made (it derives from the log, so nothing extra is stored).
    var revision: Revision = 0

    /// Whether the change is being replayed from the log: it was validated when it was written, under the
    /// rules of the version that wrote it, so rules that have since become stricter do not refuse it.
    var isReplay: Bool {
        if case .replay = source { return true }
        return false
    }

    init(caller: Caller, now: Timestamp, source: SecretSource) {
        self.caller = caller
        self.now = now
        self.source = source
    }

    /// A new secret's digest; in live mode the plaintext is kept for the result, shown once.
    mutating func newSecret(prefix: String, id: UInt64) throws -> SecretDigest {
        switch source {
        case .live:
            let plaintext = SecretFormat.make(prefix: prefix, id: id)
            let digest = SecretDigest(of: plaintext)
            secret = plaintext
            digests.append(digest)
            return digest
        case .replay(var remaining):
            guard !remaining.isEmpty else {
                throw PorticoError(.internal, "replayed change lacks a secret digest", reason: .replayMismatch)
            }
            let digest = remaining.removeFirst()
            source = .replay(remaining)
            digests.append(digest)
            return digest
        }
    }

    /// Records what the change acted on and the portfolio it belongs to (the audit event's target).
    /// - Parameter text: the target as the audit summary spells it, e.g. `principal:7 asset:12`.
    mutating func setTarget(_ kind: AuditEvent.TargetKind, _ id: UInt64, in portfolio: PortfolioID?, _ text: String) {
        targetKind = kind
        targetID = id
        self.portfolio = portfolio
        target = text
    }

    /// Notes a cascade for the audit event.
    mutating func note(_ effect: String) { effects.append(effect) }

    /// What the change stores of its idempotency key, once it has applied: the key's digest, and the
    /// secret it generated sealed under the key. Nil without a key.
    var idempotencyRecord: IdempotencyRecord? {
        switch idempotency {
        case nil: nil
        case .live(let key): IdempotencyRecord(keyDigest: key.digest, sealedSecret: secret.map(key.seal))
        case .replay(let record): record
        }
    }
}
