public import HashTreeCollections

/// The whole access model as one immutable value of persistent collections.
///
/// Copying it is O(1) and changing a copy shares all untouched structure, so a writer can build the
/// next state beside the published one and throw it away if the store refuses it.
public struct AccessState: Hashable, Sendable {
    /// The revision of the last change applied.
    public internal(set) var revision: Revision = 0
    /// The next id to hand out, for every kind (ids are unique across the service).
    public internal(set) var nextID: UInt64 = 1

    public internal(set) var portfolios = TreeDictionary<PortfolioID, PortfolioRecord>()
    public internal(set) var principals = TreeDictionary<PrincipalID, PrincipalRecord>()
    public internal(set) var assets = TreeDictionary<AssetID, AssetRecord>()
    public internal(set) var apps = TreeDictionary<AppID, AppRecord>()
    public internal(set) var tokens = TreeDictionary<TokenID, TokenRecord>()
    public internal(set) var credentials = TreeDictionary<CredentialID, CredentialRecord>()
    public internal(set) var shareRequests = TreeDictionary<ShareRequestID, ShareRequestRecord>()
    public internal(set) var audit = AuditLog()
    /// What the check reads, kept beside the records by the same writes.
    public internal(set) var checkIndex = CheckIndex()

    // Indexes for cascades and lookups; kept out of the records so the check copies less.
    /// Portfolio -> its principals that are not removed.
    public internal(set) var members = TreeDictionary<PortfolioID, TreeSet<PrincipalID>>()
    /// Portfolio -> the assets it owns.
    public internal(set) var ownedAssets = TreeDictionary<PortfolioID, TreeSet<AssetID>>()
    /// Portfolio -> the assets shared with it.
    public internal(set) var sharedIn = TreeDictionary<PortfolioID, TreeSet<AssetID>>()
    /// Asset -> principals holding an assignment on it.
    public internal(set) var assignees = TreeDictionary<AssetID, TreeSet<PrincipalID>>()
    /// Portfolio -> the partners it added -> the partnership (what `share` requires of the owner).
    public internal(set) var partnerships = TreeDictionary<
        PortfolioID, TreeDictionary<PortfolioID, PartnershipRecord>
    >()
    /// Portfolio -> the portfolios that added it as a partner (the reverse of `partnerships`).
    public internal(set) var partneredBy = TreeDictionary<PortfolioID, TreeSet<PortfolioID>>()
    /// Principal -> its tokens (revoked ones included).
    public internal(set) var principalTokens = TreeDictionary<PrincipalID, TreeSet<TokenID>>()
    /// Portfolio -> (principal, asset) -> when the assignment expires, for every assignment of the
    /// portfolio's principals that does: what a sweep (`Command.expireAssignments`) looks through.
    public internal(set) var expiring = TreeDictionary<PortfolioID, TreeDictionary<CheckIndex.Pair, Timestamp>>()
    /// The idempotency keys of recent changes, with what a retry is answered.
    public internal(set) var idempotency = IdempotencyTable()

    public init() {}

    mutating func takeID() -> UInt64 {
        defer { nextID += 1 }
        return nextID
    }
}

extension TreeDictionary {
    /// Adds `element` to the set stored at `key`.
    mutating func insert<Element: Hashable>(_ element: Element, into key: Key) where Value == TreeSet<Element> {
        self[key, default: []].insert(element)
    }

    /// Removes `element` from the set at `key`, dropping the key when the set empties.
    mutating func remove<Element: Hashable>(_ element: Element, from key: Key) where Value == TreeSet<Element> {
        guard var set = self[key] else { return }
        set.remove(element)
        self[key] = set.isEmpty ? nil : set
    }
}
