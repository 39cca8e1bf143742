import Foundation

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
    /// A change answered as the change bound to this name was: the same revision, the same id created.
    public var sameAs: Reference?
    /// `preview`: every access change, in order.
    public var access: [AccessExpectation]?

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

    /// One row of a preview: a principal's (or a revoked token's) tasks gained and lost on an asset.
    public struct AccessExpectation: Decodable, Sendable {
        public var principal: Reference?
        public var token: Reference?
        public var asset: Reference
        public var gained: [String]
        public var lost: [String]
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case error, reason, allowed, rules, decisions, assets, tasks, next, principals, partners, count
        case operations, effectsOfLast, targets, portfolios, caller, revision, secretShown, ids, owners
        case sameAs, access
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
        self.sameAs = try container.decodeIfPresent(Reference.self, forKey: .sameAs)
        self.access = try container.decodeIfPresent([AccessExpectation].self, forKey: .access)
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
