/// Every change the core accepts; also the unit the store persists and replays.
///
/// A command carries only what its caller chose. What the core generates (ids, times, secrets) is
/// either derived deterministically from the state it applies to (ids come from `AccessState.nextID`)
/// or recorded beside it in `Change` (time, secret digests), so replaying the log rebuilds the state.
public enum Command: Hashable, Sendable, Codable {
    // Operator only.
    case createPortfolio(name: String, tier: SystemUserTier)
    case setPortfolioStatus(PortfolioID, PortfolioStatus)
    case setSystemUserTier(PortfolioID, SystemUserTier)
    case issueServiceCredential(name: String)
    case revokeServiceCredential(CredentialID)
    // Portfolio administration.
    case addPerson(PortfolioID, name: String, role: Role)
    case setRole(PrincipalID, Role)
    case removePrincipal(PrincipalID)
    case createApp(PortfolioID, name: String)
    case addSystemUser(PortfolioID, name: String, role: Role)
    case addAsset(PortfolioID, type: AssetType, name: String)
    case removeAsset(AssetID)
    case assign(PrincipalID, AssetID, TaskSet)
    case unassign(PrincipalID, AssetID)
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

    public init(revision: Revision, time: Timestamp, caller: Caller, command: Command,
                secretDigests: [SecretDigest]) {
        self.revision = revision
        self.time = time
        self.caller = caller
        self.command = command
        self.secretDigests = secretDigests
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
}
