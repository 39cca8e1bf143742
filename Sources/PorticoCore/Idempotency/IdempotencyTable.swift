import HashTreeCollections

/// The idempotency keys the state remembers: part of the state, so that it is rebuilt by replay, held
/// in checkpoints, rolled back with a change the store refused, and consulted under the same lock as
/// the validation it short-cuts.
///
/// Bounded two ways: a key is forgotten once its change is older than the policy's window (pruned by
/// the next change, so memory follows the write rate), and the table never holds more than the policy's
/// capacity (the oldest go first). Pruning walks revisions in order from a cursor, so each revision is
/// passed once: amortized O(1) per change.
public struct IdempotencyTable: Hashable, Sendable {
    /// What a retry is answered with.
    public struct Entry: Hashable, Sendable {
        /// The change the key made.
        public let revision: Revision
        public let fingerprint: CommandFingerprint
        /// The id the change created; 0 for none.
        public let createdID: UInt64
        public let time: Timestamp
        public let sealedSecret: [UInt8]?

        public init(revision: Revision, fingerprint: CommandFingerprint, createdID: UInt64, time: Timestamp,
                    sealedSecret: [UInt8]?) {
            self.revision = revision
            self.fingerprint = fingerprint
            self.createdID = createdID
            self.time = time
            self.sealedSecret = sealedSecret
        }
    }

    private(set) var entries = TreeDictionary<IdempotencyDigest, Entry>()
    /// The key each revision made, for pruning in order.
    private var byRevision = TreeDictionary<Revision, IdempotencyDigest>()
    /// No entry has a revision below it.
    private var cursor: Revision = 1

    public init() {}

    /// How many keys are remembered.
    public var count: Int { entries.count }

    /// Every key with its entry, in no order (checkpoints).
    public var all: [(IdempotencyDigest, Entry)] { entries.map { ($0.key, $0.value) } }

    /// The entry of `digest`, if it is still within the window at `now`.
    func entry(_ digest: IdempotencyDigest, now: Timestamp, policy: IdempotencyPolicy) -> Entry? {
        guard let entry = entries[digest], entry.time.milliseconds > now.milliseconds - policy.windowMilliseconds
        else { return nil }
        return entry
    }

    /// Remembers `entry` under `digest` (replacing an expired one of the same key).
    mutating func insert(_ digest: IdempotencyDigest, _ entry: Entry, policy: IdempotencyPolicy) {
        if let old = entries[digest] { byRevision[old.revision] = nil }
        while entries.count >= policy.capacity, evictOldest() {}
        entries[digest] = entry
        byRevision[entry.revision] = digest
    }

    /// Forgets the keys whose changes are older than the window at `now`, up to `revision`.
    mutating func prune(now: Timestamp, through revision: Revision, policy: IdempotencyPolicy) {
        guard !entries.isEmpty else {
            cursor = revision + 1
            return
        }
        let cutoff = now.milliseconds - policy.windowMilliseconds
        while cursor <= revision {
            guard let digest = byRevision[cursor] else {
                cursor += 1
                continue
            }
            guard let entry = entries[digest], entry.revision == cursor else {
                byRevision[cursor] = nil
                cursor += 1
                continue
            }
            guard entry.time.milliseconds <= cutoff else { return }
            entries[digest] = nil
            byRevision[cursor] = nil
            cursor += 1
        }
    }

    /// Forgets the oldest key; false when there is none.
    private mutating func evictOldest() -> Bool {
        while !byRevision.isEmpty {
            defer { cursor += 1 }
            guard let digest = byRevision.removeValue(forKey: cursor) else { continue }
            if entries[digest]?.revision == cursor {
                entries[digest] = nil
                return true
            }
        }
        return false
    }

    /// Restores a remembered key, as a checkpoint holds it.
    mutating func restore(_ digest: IdempotencyDigest, _ entry: Entry) {
        entries[digest] = entry
        byRevision[entry.revision] = digest
        // The cursor starts at the oldest key, so that the first prune does not walk every revision before it.
        cursor = entries.count == 1 ? entry.revision : min(cursor, entry.revision)
    }

    /// Equal when they remember the same keys with the same answers (the cursor is where pruning got
    /// to, which a restored table finds again).
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.entries == rhs.entries }

    public func hash(into hasher: inout Hasher) { hasher.combine(entries.count) }
}
