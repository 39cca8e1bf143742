/// Every change the core accepts; also the unit the store persists and replays.
///
/// A command carries only what its caller chose. What the core generates (ids, times, secrets) is
/// either derived deterministically from the state it applies to (ids come from `AccessState.nextID`)
/// or recorded beside it in `Change` (time, secret digests), so replaying the log rebuilds the state.
/// Arguments added later default to their absence (`externalID`, `expiresAt`), so that a change stored
/// before them means what it meant.
public enum Command: Hashable, Sendable, Codable {
    // Operator only.
    case createPortfolio(name: String, tier: SystemUserTier, externalID: String? = nil)
    case setPortfolioStatus(PortfolioID, PortfolioStatus)
    case setSystemUserTier(PortfolioID, SystemUserTier)
    case issueServiceCredential(name: String)
    case revokeServiceCredential(CredentialID)
    // Portfolio administration.
    case addPerson(PortfolioID, name: String, role: Role, externalID: String? = nil)
    case setRole(PrincipalID, Role)
    case removePrincipal(PrincipalID)
    case createApp(PortfolioID, name: String, externalID: String? = nil)
    case addSystemUser(PortfolioID, name: String, role: Role, externalID: String? = nil)
    case addAsset(PortfolioID, type: AssetType, name: String, externalID: String? = nil)
    case removeAsset(AssetID)
    /// With `expiresAt`, the assignment grants nothing from that time on.
    case assign(PrincipalID, AssetID, TaskSet, expiresAt: Timestamp? = nil)
    case unassign(PrincipalID, AssetID)
    /// Removes every assignment of the portfolio's principals that has expired by the change's time (the
    /// sweep, one change per portfolio so that each portfolio's audit log shows its own).
    case expireAssignments(PortfolioID)
    /// Gives an entity its external id, once.
    case setExternalID(ExternalKind, UInt64, String)
    // Partners.
    case share(AssetID, with: PortfolioID, TaskSet)
    case unshare(AssetID, from: PortfolioID)
    /// The portfolio takes `partner` as a partner, so that it may share assets with it. (Synthesized
    /// Codable keys cases by name, so adding one leaves every stored change readable.)
    case addPartner(PortfolioID, partner: PortfolioID)
    case removePartner(PortfolioID, partner: PortfolioID)
    case requestShare(AssetID, by: PortfolioID, TaskSet)
    case approveShareRequest(ShareRequestID)
    case declineShareRequest(ShareRequestID)
    // Tokens.
    case generateToken(PrincipalID, app: AppID, scopes: ScopeSet, expiry: TokenExpiry)
    case revokeToken(TokenID)
    case revokeAllTokens(PrincipalID)

    /// The operation's name as audit events and scenarios spell it.
    public var name: String {
        switch self {
        case .createPortfolio: "createPortfolio"
        case .setPortfolioStatus: "setPortfolioStatus"
        case .setSystemUserTier: "setSystemUserTier"
        case .issueServiceCredential: "issueServiceCredential"
        case .revokeServiceCredential: "revokeServiceCredential"
        case .addPerson: "addPerson"
        case .setRole: "setRole"
        case .removePrincipal: "removePrincipal"
        case .createApp: "createApp"
        case .addSystemUser: "addSystemUser"
        case .addAsset: "addAsset"
        case .removeAsset: "removeAsset"
        case .assign: "assign"
        case .unassign: "unassign"
        case .expireAssignments: "expireAssignments"
        case .setExternalID: "setExternalId"
        case .share: "share"
        case .unshare: "unshare"
        case .addPartner: "addPartner"
        case .removePartner: "removePartner"
        case .requestShare: "requestShare"
        case .approveShareRequest: "approveShareRequest"
        case .declineShareRequest: "declineShareRequest"
        case .generateToken: "generateToken"
        case .revokeToken: "revokeToken"
        case .revokeAllTokens: "revokeAllTokens"
        }
    }
}

/// One committed change, as the store keeps it: enough to replay it exactly at start-up.
public struct Change: Hashable, Sendable, Codable {
    /// The revision this change created (the previous state's revision + 1).
    public let revision: Revision
    /// When it was accepted; replay uses it as "now" (token expiry, audit time).
    public let time: Timestamp
    public let caller: Caller
    public let command: Command
    /// SHA-256 of every secret the command generated, in order; replay uses them instead of new secrets.
    public let secretDigests: [SecretDigest]
    /// Set when the change was made with an idempotency key: replay remembers the key as the change did.
    public let idempotency: IdempotencyRecord?

    public init(revision: Revision, time: Timestamp, caller: Caller, command: Command,
                secretDigests: [SecretDigest], idempotency: IdempotencyRecord? = nil) {
        self.revision = revision
        self.time = time
        self.caller = caller
        self.command = command
        self.secretDigests = secretDigests
        self.idempotency = idempotency
    }
}

/// What a committed command returns.
public struct CommandResult: Hashable, Sendable {
    /// The revision the change created: a check asking for at least this revision sees it.
    public let revision: Revision
    /// The id of what the command created, if it created something.
    public let createdID: UInt64?
    /// The secret a command generated (token, service credential, app secret): shown only here.
    public let secret: String?
    /// Whether this is the answer of an earlier change with the same idempotency key: nothing was applied.
    public var replayed = false

    init(revision: Revision, createdID: UInt64?, secret: String?, replayed: Bool = false) {
        self.revision = revision
        self.createdID = createdID
        self.secret = secret
        self.replayed = replayed
    }
}
