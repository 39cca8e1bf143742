import PorticoCore
import PorticoWire

// Domain values and wire values, mapped in both directions. The wire enums are generated from the
// proto files and the domain enums are the core's own; both list the same cases in the same order
// (wire = domain + 1, 0 being UNSPECIFIED), which WireMappingTests checks name by name.

typealias WireAssetTask = PorticoWire.AssetTask
typealias WireAssetType = PorticoWire.AssetType
typealias WireScope = PorticoWire.Scope
typealias WireRole = PorticoWire.Role
typealias WirePortfolioStatus = PorticoWire.PortfolioStatus
typealias WireSystemUserTier = PorticoWire.SystemUserTier
typealias WireDecisionReason = PorticoWire.DecisionReason
typealias WireTokenExpiry = PorticoWire.TokenExpiry
typealias WireExplainRule = PorticoWire.ExplainRule
typealias WireTargetKind = PorticoWire.TargetKind

enum WireMapping {
    // MARK: enums whose cases line up one to one

    static func task(_ wire: WireAssetTask, field: String = "task") throws(CallFailure) -> PorticoCore.AssetTask {
        guard wire != .unspecified, let task = PorticoCore.AssetTask(rawValue: UInt8(wire.rawValue - 1)) else {
            throw CallFailure.invalid("a task is required", field: field)
        }
        return task
    }

    static func optionalTask(_ wire: WireAssetTask) -> PorticoCore.AssetTask? {
        wire == .unspecified ? nil : PorticoCore.AssetTask(rawValue: UInt8(wire.rawValue - 1))
    }

    static func wire(_ task: PorticoCore.AssetTask) -> WireAssetTask {
        WireAssetTask(rawValue: Int32(task.rawValue) + 1)!
    }

    static func tasks(_ wire: [WireAssetTask], field: String = "tasks") throws(CallFailure) -> TaskSet {
        var set = TaskSet()
        for task in wire { set.insert(TaskSet(try Self.task(task, field: field))) }
        return set
    }

    static func wire(_ tasks: TaskSet) -> [WireAssetTask] { tasks.tasks.map(Self.wire) }

    static func assetType(_ wire: WireAssetType, field: String = "type") throws(CallFailure) -> PorticoCore.AssetType {
        guard wire != .unspecified, let type = PorticoCore.AssetType(rawValue: UInt8(wire.rawValue - 1)) else {
            throw CallFailure.invalid("an asset type is required", field: field)
        }
        return type
    }

    static func optionalAssetType(_ wire: WireAssetType) -> PorticoCore.AssetType? {
        wire == .unspecified ? nil : PorticoCore.AssetType(rawValue: UInt8(wire.rawValue - 1))
    }

    static func wire(_ type: PorticoCore.AssetType) -> WireAssetType {
        WireAssetType(rawValue: Int32(type.rawValue) + 1)!
    }

    static func scopes(_ wire: [WireScope]) throws(CallFailure) -> ScopeSet {
        var set = ScopeSet()
        for scope in wire {
            guard scope != .unspecified, let domain = PorticoCore.Scope(rawValue: UInt8(scope.rawValue - 1)) else {
                throw CallFailure.invalid("SCOPE_UNSPECIFIED is not a scope", field: "scopes")
            }
            set.insert(ScopeSet(domain))
        }
        return set
    }

    static func wire(_ scopes: ScopeSet) -> [WireScope] {
        PorticoCore.Scope.allCases.filter { scopes.contains(ScopeSet($0)) }.map {
            WireScope(rawValue: Int32($0.rawValue) + 1)!
        }
    }

    // MARK: enums mapped by name

    static func role(_ wire: WireRole, field: String = "role") throws(CallFailure) -> PorticoCore.Role {
        switch wire {
        case .admin: .admin
        case .employee: .employee
        case .unspecified: throw CallFailure.invalid("a role is required", field: field)
        }
    }

    static func wire(_ role: PorticoCore.Role) -> WireRole {
        switch role {
        case .admin: .admin
        case .employee: .employee
        }
    }

    static func status(_ wire: WirePortfolioStatus) throws(CallFailure) -> PorticoCore.PortfolioStatus {
        switch wire {
        case .active: .active
        case .restricted: .restricted
        case .disabled: .disabled
        case .unspecified: throw CallFailure.invalid("a status is required", field: "status")
        }
    }

    static func wire(_ status: PorticoCore.PortfolioStatus) -> WirePortfolioStatus {
        switch status {
        case .active: .active
        case .restricted: .restricted
        case .disabled: .disabled
        }
    }

    /// The tier of a request; `fallback` stands for UNSPECIFIED where the field is optional.
    static func tier(_ wire: WireSystemUserTier, fallback: PorticoCore.SystemUserTier? = nil) throws(CallFailure)
        -> PorticoCore.SystemUserTier
    {
        switch wire {
        case .none: return PorticoCore.SystemUserTier.none
        case .standard: return .standard
        case .advanced: return .advanced
        case .unspecified:
            guard let fallback else {
                throw CallFailure.invalid("a system user tier is required", field: "system_user_tier")
            }
            return fallback
        }
    }

    static func wire(_ tier: PorticoCore.SystemUserTier) -> WireSystemUserTier {
        switch tier {
        case PorticoCore.SystemUserTier.none: .none
        case .standard: .standard
        case .advanced: .advanced
        }
    }

    /// The kind of entity a TargetKind names, for the kinds that take an external id.
    static func externalKind(_ wire: WireTargetKind, field: String = "kind") throws(CallFailure) -> ExternalKind {
        switch wire {
        case .portfolio: return .portfolio
        case .person: return .person
        case .systemUser: return .systemUser
        case .app: return .app
        case .asset: return .asset
        default:
            throw CallFailure.invalid(
                "kind must be PORTFOLIO, PERSON, SYSTEM_USER, APP or ASSET, not \(wire.protoValueName)", field: field)
        }
    }

    /// A proto3 string that is empty when unset, as an optional.
    static func optional(_ text: String) -> String? { text.isEmpty ? nil : text }

    /// A time in microseconds since 1970 (0: none), as the core's milliseconds, rounded down.
    static func expiry(micros: Int64, field: String) throws(CallFailure) -> Timestamp? {
        guard micros != 0 else { return nil }
        guard micros > 0 else { throw CallFailure.invalid("\(field) must not be negative", field: field) }
        return Timestamp(milliseconds: micros / 1000)
    }

    static func expiry(_ wire: WireTokenExpiry) -> PorticoCore.TokenExpiry {
        switch wire {
        case .sixtyDays: .sixtyDays
        case .never, .unspecified: .never
        }
    }

    static func wire(_ expiry: PorticoCore.TokenExpiry) -> WireTokenExpiry {
        switch expiry {
        case .never: .never
        case .sixtyDays: .sixtyDays
        }
    }

    static func wire(_ reason: PorticoCore.DecisionReason) -> WireDecisionReason {
        switch reason {
        case .adminRole: .adminRole
        case .assigned: .assigned
        case .sharedAdminRole: .sharedAdminRole
        case .sharedAssigned: .sharedAssigned
        case .tokenNotFound: .tokenNotFound
        case .tokenRevoked: .tokenRevoked
        case .tokenExpired: .tokenExpired
        case .principalNotFound: .principalNotFound
        case .principalRemoved: .principalRemoved
        case .portfolioDisabled: .portfolioDisabled
        case .assetNotFound: .assetNotFound
        case .ownerDisabled: .ownerDisabled
        case .taskNotValidForAsset: .taskNotValidForAssetType
        case .scopeMissing: .scopeMissing
        case .notShared: .notShared
        case .taskNotShared: .taskNotShared
        case .notAssigned: .notAssigned
        case .assignmentExpired: .assignmentExpired
        case .taskNotGranted: .taskNotGranted
        }
    }

    static func wire(_ rule: Explanation.Rule) -> WireExplainRule {
        switch rule {
        case .token: .token
        case .tokenScope: .tokenScope
        case .principal: .principal
        case .portfolioStatus: .portfolioStatus
        case .asset: .asset
        case .taskValid: .taskValid
        case .adminRole: .adminRole
        case .assignment: .assignment
        case .share: .share
        }
    }

    static func wire(_ kind: PorticoCore.AuditEvent.TargetKind) -> WireTargetKind {
        switch kind {
        case .portfolio: .portfolio
        case .person: .person
        case .systemUser: .systemUser
        case .app: .app
        case .asset: .asset
        case .assignment: .assignment
        case .partner: .partner
        case .share: .share
        case .shareRequest: .shareRequest
        case .token: .token
        case .serviceCredential: .serviceCredential
        }
    }
}
