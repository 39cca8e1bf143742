import Foundation

/// One file of the scenario corpus (format: Tests/PorticoCoreTests/Scenarios/README.md), decoded into
/// types, so that a misspelt key or operation fails the file instead of being skipped.
public struct Scenario: Decodable, Sendable {
    public let name: String
    public let description: String
    public let steps: [Step]
}

/// One step: an operation, its caller and arguments, a name for what it creates, what must happen.
public struct Step: Decodable, Sendable {
    public let op: Operation
    /// The acting caller (`as` in the file); the operator when absent.
    public let caller: CallerReference
    public let args: Arguments
    public let bind: String?
    /// Absent: the step succeeds.
    public let expect: Expectation?
    /// A change's idempotency key (the frame header's `idempotency_key`); nil for none.
    public let idempotencyKey: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case op
        case caller = "as"
        case args, bind, expect, idempotencyKey
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.op = try container.decode(Operation.self, forKey: .op)
        self.caller = try container.decodeIfPresent(CallerReference.self, forKey: .caller) ?? .operator
        self.args = try container.decodeIfPresent(Arguments.self, forKey: .args) ?? Arguments()
        self.bind = try container.decodeIfPresent(String.self, forKey: .bind)
        self.expect = try container.decodeIfPresent(Expectation.self, forKey: .expect)
        self.idempotencyKey = try container.decodeIfPresent(String.self, forKey: .idempotencyKey)
    }
}

/// Every operation a step may name.
public enum Operation: String, Decodable, Sendable, CaseIterable {
    case advanceClock
    case check, explain, checkBatch, listAssets, listPrincipals, listPartners, auditEvents, authenticate
    case getPortfolio, getPerson, getAsset, listPortfolios, listPeople, listSystemUsers, listApps
    case listOwnedAssets, listAssignments, listShares, listShareRequests, listTokens, inspectToken
    case createPortfolio, setPortfolioStatus, setSystemUserTier, issueServiceCredential, revokeServiceCredential
    case addPerson, setRole, removePrincipal, createApp, addSystemUser, addAsset, removeAsset
    case assign, unassign, share, unshare, addPartner, removePartner
    case requestShare, approveShareRequest, declineShareRequest
    case generateToken, revokeToken, revokeAllTokens
    case setExternalId, lookupExternalId, sweepExpired, preview

    /// Whether the operation only reads (every other operation but `advanceClock` is a change).
    public var isRead: Bool {
        switch self {
        case .check, .explain, .checkBatch, .listAssets, .listPrincipals, .listPartners, .auditEvents, .authenticate,
            .getPortfolio, .getPerson, .getAsset, .listPortfolios, .listPeople, .listSystemUsers, .listApps,
            .listOwnedAssets, .listAssignments, .listShares, .listShareRequests, .listTokens, .inspectToken,
            .lookupExternalId, .preview:
            true
        default:
            false
        }
    }

    /// Whether the operation changes the model (one revision and one audit event when it succeeds).
    public var isChange: Bool { !self.isRead && self != .advanceClock }
}

/// An id in a scenario: `@name` for what an earlier step bound, or a number for an id that does not exist.
public enum Reference: Decodable, Sendable, Hashable, CustomStringConvertible {
    case bound(String)
    case literal(UInt64)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(UInt64.self) {
            self = .literal(number)
            return
        }
        let text = try container.decode(String.self)
        guard let reference = Reference(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an id: \(text)")
        }
        self = reference
    }

    /// `@name` or a decimal number.
    public init?(_ text: String) {
        if text.hasPrefix("@"), text.count > 1 {
            self = .bound(String(text.dropFirst()))
        } else if let number = UInt64(text) {
            self = .literal(number)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .bound(let name): "@\(name)"
        case .literal(let id): "\(id)"
        }
    }
}

/// A step's caller: `operator`, `token:@t`, `service:@svc` or `service:@svc as @person`.
public enum CallerReference: Decodable, Sendable, Hashable {
    case `operator`
    case token(Reference)
    case service(Reference, onBehalfOf: Reference?)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let caller = CallerReference(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a caller: \(text)")
        }
        self = caller
    }

    public init?(_ text: String) {
        if text == "operator" {
            self = .operator
        } else if text.hasPrefix("token:"), let token = Reference(String(text.dropFirst(6))) {
            self = .token(token)
        } else if text.hasPrefix("service:") {
            let parts = text.dropFirst(8).components(separatedBy: " as ")
            guard parts.count <= 2, let credential = Reference(parts[0]) else { return nil }
            if parts.count == 2 {
                guard let person = Reference(parts[1]) else { return nil }
                self = .service(credential, onBehalfOf: person)
            } else {
                self = .service(credential, onBehalfOf: nil)
            }
        } else {
            return nil
        }
    }
}

/// The arguments of every operation (each operation reads the ones its row in the README names).
/// Enumerations stay names (`ADMIN`, `AD_ACCOUNT`, `ads_read`): each runner maps them to its own types.
public struct Arguments: Decodable, Sendable {
    public var name: String?
    public var tier: String?
    public var status: String?
    public var role: String?
    public var type: String?
    public var task: String?
    public var tasks: [String]?
    public var scopes: [String]?
    public var expiry: String?
    public var portfolio: Reference?
    public var partner: Reference?
    public var requester: Reference?
    public var principal: Reference?
    /// The kind the call names its principal (`principal` or `systemUser`) as: `PERSON` or `SYSTEM_USER`.
    /// Absent: the core compares no kind, and the TCP runner names the principal as the kind it was made.
    public var principalKind: String?
    public var systemUser: Reference?
    public var asset: Reference?
    public var app: Reference?
    public var token: Reference?
    public var credential: Reference?
    public var request: Reference?
    /// `authenticate`: `@name` for a bound secret, or a literal string.
    public var secret: String?
    public var checks: [CheckItem]?
    public var limit: Int?
    public var after: Reference?
    public var days: Int?
    public var milliseconds: Int?
    /// A created entity's external id, or the one `setExternalId` and `lookupExternalId` name.
    public var externalId: String?
    /// `assign`: the assignment expires this long after the clock's time (both add up).
    public var expiresInDays: Int?
    public var expiresInMilliseconds: Int?
    /// `setExternalId`, `lookupExternalId`: `PORTFOLIO`, `PERSON`, `SYSTEM_USER`, `APP` or `ASSET`.
    public var kind: String?
    /// `setExternalId`: the entity.
    public var id: Reference?
    /// `lookupExternalId`: the portfolio named by its external id instead of `portfolio`.
    public var portfolioExternalId: String?
    /// Checks and gets: the principal (with `principalKind`) and the asset by their external ids.
    public var principalRef: ExternalRefArgument?
    public var assetRef: ExternalRefArgument?
    /// `preview`: the proposed changes, each an operation with its arguments.
    public var changes: [ProposedStep]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, tier, status, role, type, task, tasks, scopes, expiry, portfolio, partner, requester
        case principal, principalKind, systemUser, asset, app, token, credential, request, secret, checks
        case limit, after, days, milliseconds, externalId, expiresInDays, expiresInMilliseconds, kind, id
        case portfolioExternalId, principalRef, assetRef, changes
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try container.decodeIfPresent(String.self, forKey: .name)
        self.tier = try container.decodeIfPresent(String.self, forKey: .tier)
        self.status = try container.decodeIfPresent(String.self, forKey: .status)
        self.role = try container.decodeIfPresent(String.self, forKey: .role)
        self.type = try container.decodeIfPresent(String.self, forKey: .type)
        self.task = try container.decodeIfPresent(String.self, forKey: .task)
        self.tasks = try container.decodeIfPresent([String].self, forKey: .tasks)
        self.scopes = try container.decodeIfPresent([String].self, forKey: .scopes)
        self.expiry = try container.decodeIfPresent(String.self, forKey: .expiry)
        self.portfolio = try container.decodeIfPresent(Reference.self, forKey: .portfolio)
        self.partner = try container.decodeIfPresent(Reference.self, forKey: .partner)
        self.requester = try container.decodeIfPresent(Reference.self, forKey: .requester)
        self.principal = try container.decodeIfPresent(Reference.self, forKey: .principal)
        self.principalKind = try container.decodeIfPresent(String.self, forKey: .principalKind)
        self.systemUser = try container.decodeIfPresent(Reference.self, forKey: .systemUser)
        self.asset = try container.decodeIfPresent(Reference.self, forKey: .asset)
        self.app = try container.decodeIfPresent(Reference.self, forKey: .app)
        self.token = try container.decodeIfPresent(Reference.self, forKey: .token)
        self.credential = try container.decodeIfPresent(Reference.self, forKey: .credential)
        self.request = try container.decodeIfPresent(Reference.self, forKey: .request)
        self.secret = try container.decodeIfPresent(String.self, forKey: .secret)
        self.checks = try container.decodeIfPresent([CheckItem].self, forKey: .checks)
        self.limit = try container.decodeIfPresent(Int.self, forKey: .limit)
        self.after = try container.decodeIfPresent(Reference.self, forKey: .after)
        self.days = try container.decodeIfPresent(Int.self, forKey: .days)
        self.milliseconds = try container.decodeIfPresent(Int.self, forKey: .milliseconds)
        self.externalId = try container.decodeIfPresent(String.self, forKey: .externalId)
        self.expiresInDays = try container.decodeIfPresent(Int.self, forKey: .expiresInDays)
        self.expiresInMilliseconds = try container.decodeIfPresent(Int.self, forKey: .expiresInMilliseconds)
        self.kind = try container.decodeIfPresent(String.self, forKey: .kind)
        self.id = try container.decodeIfPresent(Reference.self, forKey: .id)
        self.portfolioExternalId = try container.decodeIfPresent(String.self, forKey: .portfolioExternalId)
        self.principalRef = try container.decodeIfPresent(ExternalRefArgument.self, forKey: .principalRef)
        self.assetRef = try container.decodeIfPresent(ExternalRefArgument.self, forKey: .assetRef)
        self.changes = try container.decodeIfPresent([ProposedStep].self, forKey: .changes)
    }

    /// Whether `assign` asks for an expiry.
    public var expires: Bool { self.expiresInDays != nil || self.expiresInMilliseconds != nil }

    /// An entity by its external id: in the portfolio `portfolio` names, or the one whose external id is
    /// `portfolioExternalId`.
    public struct ExternalRefArgument: Decodable, Sendable {
        public var portfolio: Reference?
        public var portfolioExternalId: String?
        public var externalId: String

        public init(portfolio: Reference?, portfolioExternalId: String?, externalId: String) {
            self.portfolio = portfolio
            self.portfolioExternalId = portfolioExternalId
            self.externalId = externalId
        }
    }

    /// One proposed change of a `preview`: a change operation with its arguments.
    public struct ProposedStep: Decodable, Sendable {
        public var op: Operation
        public var args: Arguments
    }

    /// One check of `checkBatch`: a principal or a token, an asset and a task (by id or external id).
    public struct CheckItem: Decodable, Sendable {
        public var principal: Reference?
        public var principalKind: String?
        public var principalRef: ExternalRefArgument?
        public var token: Reference?
        public var asset: Reference?
        public var assetRef: ExternalRefArgument?
        public var task: String
    }
}
