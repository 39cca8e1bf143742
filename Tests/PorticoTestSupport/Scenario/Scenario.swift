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

    enum CodingKeys: String, CodingKey, CaseIterable {
        case op
        case caller = "as"
        case args, bind, expect
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.op = try container.decode(Operation.self, forKey: .op)
        self.caller = try container.decodeIfPresent(CallerReference.self, forKey: .caller) ?? .operator
        self.args = try container.decodeIfPresent(Arguments.self, forKey: .args) ?? Arguments()
        self.bind = try container.decodeIfPresent(String.self, forKey: .bind)
        self.expect = try container.decodeIfPresent(Expectation.self, forKey: .expect)
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

    /// Whether the operation only reads (every other operation but `advanceClock` is a change).
    public var isRead: Bool {
        switch self {
        case .check, .explain, .checkBatch, .listAssets, .listPrincipals, .listPartners, .auditEvents, .authenticate,
            .getPortfolio, .getPerson, .getAsset, .listPortfolios, .listPeople, .listSystemUsers, .listApps,
            .listOwnedAssets, .listAssignments, .listShares, .listShareRequests, .listTokens, .inspectToken:
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

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, tier, status, role, type, task, tasks, scopes, expiry, portfolio, partner, requester
        case principal, principalKind, systemUser, asset, app, token, credential, request, secret, checks
        case limit, after, days, milliseconds
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
    }

    /// One check of `checkBatch`: a principal or a token, an asset and a task.
    public struct CheckItem: Decodable, Sendable {
        public var principal: Reference?
        public var principalKind: String?
        public var token: Reference?
        public var asset: Reference
        public var task: String
    }
}

/// What a step must produce. `error` (with `reason`, the error's reason) for a failure; otherwise the
/// keys of the step's kind of answer, each compared only when present (README, "Expectations").
public struct Expectation: Decodable, Sendable {
    public var error: String?
    /// With `error`: the error's machine-readable reason; otherwise a decision's reason.
    public var reason: String?
    public var allowed: Bool?
    public var rules: [String]?
    public var decisions: [DecisionExpectation]?
    public var assets: [Reference]?
    public var tasks: [[String]]?
    /// The next page token: absent (not compared), `null` (no next page) or the id it must be.
    public var next: NextPage?
    public var principals: [PrincipalExpectation]?
    public var partners: [PartnerExpectation]?
    public var count: Int?
    public var operations: [String]?
    public var effectsOfLast: Int?
    public var targets: [String]?
    public var portfolios: [Reference]?
    public var caller: CallerReference?
    public var revision: UInt64?
    public var secretShown: Bool?
    /// Gets and lists of entities: the ids answered, in order (a get answers one).
    public var ids: [Reference]?
    /// `listShareRequests`: the owner of each request's asset as the caller is told it (0: not told).
    public var owners: [Reference]?

    public enum NextPage: Sendable, Hashable {
        case none
        case id(Reference)
    }

    public struct DecisionExpectation: Decodable, Sendable {
        public var allowed: Bool?
        public var reason: String?
    }

    public struct PrincipalExpectation: Decodable, Sendable {
        public var principal: Reference
        public var tasks: [String]?
    }

    public struct PartnerExpectation: Decodable, Sendable {
        public var portfolio: Reference
        public var partner: Reference
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case error, reason, allowed, rules, decisions, assets, tasks, next, principals, partners, count
        case operations, effectsOfLast, targets, portfolios, caller, revision, secretShown, ids, owners
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.error = try container.decodeIfPresent(String.self, forKey: .error)
        self.reason = try container.decodeIfPresent(String.self, forKey: .reason)
        self.allowed = try container.decodeIfPresent(Bool.self, forKey: .allowed)
        self.rules = try container.decodeIfPresent([String].self, forKey: .rules)
        self.decisions = try container.decodeIfPresent([DecisionExpectation].self, forKey: .decisions)
        self.assets = try container.decodeIfPresent([Reference].self, forKey: .assets)
        self.tasks = try container.decodeIfPresent([[String]].self, forKey: .tasks)
        if container.contains(.next) {
            self.next =
                try container.decodeNil(forKey: .next)
                ? NextPage.none : .id(try container.decode(Reference.self, forKey: .next))
        }
        self.principals = try container.decodeIfPresent([PrincipalExpectation].self, forKey: .principals)
        self.partners = try container.decodeIfPresent([PartnerExpectation].self, forKey: .partners)
        self.count = try container.decodeIfPresent(Int.self, forKey: .count)
        self.operations = try container.decodeIfPresent([String].self, forKey: .operations)
        self.effectsOfLast = try container.decodeIfPresent(Int.self, forKey: .effectsOfLast)
        self.targets = try container.decodeIfPresent([String].self, forKey: .targets)
        self.portfolios = try container.decodeIfPresent([Reference].self, forKey: .portfolios)
        self.caller = try container.decodeIfPresent(CallerReference.self, forKey: .caller)
        self.revision = try container.decodeIfPresent(UInt64.self, forKey: .revision)
        self.secretShown = try container.decodeIfPresent(Bool.self, forKey: .secretShown)
        self.ids = try container.decodeIfPresent([Reference].self, forKey: .ids)
        self.owners = try container.decodeIfPresent([Reference].self, forKey: .owners)
    }

    /// An audit target `KIND:@name` as its kind and the reference of its id.
    public static func target(_ text: String) throws -> (kind: String, id: Reference) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let reference = Reference(parts[1]) else {
            throw ScenarioError.malformed("bad audit target \(text)")
        }
        return (parts[0], reference)
    }
}

/// A scenario that cannot be run as written: a name never bound, an enumeration value that does not exist.
public enum ScenarioError: Error, CustomStringConvertible {
    case malformed(String)

    public var description: String {
        switch self {
        case .malformed(let text): "malformed scenario: \(text)"
        }
    }
}

/// Refuses an object with a key its type does not know, so that a misspelt key fails the file.
enum StrictKeys {
    private struct AnyKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static func check<Keys: CodingKey & CaseIterable>(_ decoder: any Decoder, _ keys: Keys.Type) throws {
        let known = Set(Keys.allCases.map(\.stringValue))
        let container = try decoder.container(keyedBy: AnyKey.self)
        if let unknown = container.allKeys.first(where: { !known.contains($0.stringValue) }) {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath + [unknown], debugDescription: "unknown key \(unknown.stringValue)")
            )
        }
    }
}
