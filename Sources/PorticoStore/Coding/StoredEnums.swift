import PorticoCore
import PorticoWire

/// The core's enums and sets as the storage messages spell them (proto/portico/v1/storage.proto).
///
/// Task and scope sets are bit masks whose bit (v - 1) is the proto value v. The core's `AssetTask`,
/// `Scope` and `AssetType` are declared in the proto's order, so a core raw value r is proto value r + 1
/// and a `TaskSet`'s raw value is the mask itself; `StoredEnumTests` checks that name by name.
enum StoredEnums {
    struct Unknown: Error, CustomStringConvertible {
        let description: String
    }

    static func mask(_ tasks: TaskSet) -> UInt32 { tasks.rawValue }

    /// Every task's bit, and every scope's: a mask with another bit set is not one this binary knows.
    private static let allTasks = AssetTask.allCases.reduce(TaskSet()) { $0.union(TaskSet($1)) }
    private static let allScopes = PorticoCore.Scope.allCases.reduce(ScopeSet()) { $0.union(ScopeSet($1)) }

    static func tasks(_ mask: UInt32) throws -> TaskSet {
        guard mask & ~allTasks.rawValue == 0 else { throw Unknown(description: "unknown task bits \(mask)") }
        return TaskSet(rawValue: mask)
    }

    static func mask(_ scopes: ScopeSet) -> UInt32 { scopes.rawValue }

    static func scopes(_ mask: UInt32) throws -> ScopeSet {
        guard mask & ~allScopes.rawValue == 0 else { throw Unknown(description: "unknown scope bits \(mask)") }
        return ScopeSet(rawValue: mask)
    }

    static func wire(_ type: PorticoCore.AssetType) -> PorticoWire.AssetType {
        PorticoWire.AssetType(rawValue: Int32(type.rawValue) + 1)!
    }

    static func core(_ type: PorticoWire.AssetType) throws -> PorticoCore.AssetType {
        guard type.rawValue > 0,
            let core = PorticoCore.AssetType(rawValue: UInt8(truncatingIfNeeded: type.rawValue - 1))
        else { throw Unknown(description: "unknown asset type \(type.rawValue)") }
        return core
    }

    static func wire(_ status: PorticoCore.PortfolioStatus) -> PorticoWire.PortfolioStatus {
        switch status {
        case .active: .active
        case .restricted: .restricted
        case .disabled: .disabled
        }
    }

    static func core(_ status: PorticoWire.PortfolioStatus) throws -> PorticoCore.PortfolioStatus {
        switch status {
        case .active: .active
        case .restricted: .restricted
        case .disabled: .disabled
        case .unspecified: throw Unknown(description: "portfolio status unspecified")
        }
    }

    static func wire(_ tier: PorticoCore.SystemUserTier) -> PorticoWire.SystemUserTier {
        switch tier {
        case .none: .none
        case .standard: .standard
        case .advanced: .advanced
        }
    }

    static func core(_ tier: PorticoWire.SystemUserTier) throws -> PorticoCore.SystemUserTier {
        switch tier {
        case .none: .none
        case .standard: .standard
        case .advanced: .advanced
        case .unspecified: throw Unknown(description: "system-user tier unspecified")
        }
    }

    static func wire(_ role: PorticoCore.Role) -> PorticoWire.Role {
        switch role {
        case .admin: .admin
        case .employee: .employee
        }
    }

    static func core(_ role: PorticoWire.Role) throws -> PorticoCore.Role {
        switch role {
        case .admin: .admin
        case .employee: .employee
        case .unspecified: throw Unknown(description: "role unspecified")
        }
    }

    static func wire(_ expiry: PorticoCore.TokenExpiry) -> PorticoWire.TokenExpiry {
        switch expiry {
        case .never: .never
        case .sixtyDays: .sixtyDays
        }
    }

    static func core(_ expiry: PorticoWire.TokenExpiry) throws -> PorticoCore.TokenExpiry {
        switch expiry {
        case .never: .never
        case .sixtyDays: .sixtyDays
        case .unspecified: throw Unknown(description: "token expiry unspecified")
        }
    }

    static func wire(_ kind: PrincipalKindTag) -> PorticoWire.PrincipalKind {
        switch kind {
        case .person: .person
        case .systemUser: .systemUser
        }
    }

    static func core(_ kind: PorticoWire.PrincipalKind) throws -> PrincipalKindTag {
        switch kind {
        case .person: .person
        case .systemUser: .systemUser
        case .unspecified: throw Unknown(description: "principal kind unspecified")
        }
    }

    static func wire(_ status: ShareRequestStatus) -> ShareRequestState {
        switch status {
        case .pending: .pending
        case .approved: .approved
        case .declined: .declined
        }
    }

    static func core(_ state: ShareRequestState) throws -> ShareRequestStatus {
        switch state {
        case .pending: .pending
        case .approved: .approved
        case .declined: .declined
        case .unspecified: throw Unknown(description: "share request state unspecified")
        }
    }

    /// An optional string as proto3 stores it: empty for none.
    static func optional(_ text: String) -> String? { text.isEmpty ? nil : text }

    static func wire(_ kind: ExternalKind) -> TargetKind {
        switch kind {
        case .portfolio: .portfolio
        case .person: .person
        case .systemUser: .systemUser
        case .app: .app
        case .asset: .asset
        }
    }

    static func core(_ kind: TargetKind) throws -> ExternalKind {
        switch kind {
        case .portfolio: .portfolio
        case .person: .person
        case .systemUser: .systemUser
        case .app: .app
        case .asset: .asset
        default: throw Unknown(description: "target kind \(kind.rawValue) takes no external id")
        }
    }

    /// A digest as its 32 bytes, big-endian (the usual SHA-256 byte order).
    static func bytes(_ digest: SecretDigest) -> [UInt8] {
        let hex = Array(digest.hex.utf8)
        return (0..<32).map { index in nibble(hex[index * 2]) << 4 | nibble(hex[index * 2 + 1]) }
    }

    static func digest(_ bytes: [UInt8]) throws -> SecretDigest {
        let digits = Array("0123456789abcdef".utf8)
        guard bytes.count == 32,
            let digest = SecretDigest(
                hex: String(
                    decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] },
                    as: UTF8.self))
        else { throw Unknown(description: "a secret digest of \(bytes.count) bytes, not 32") }
        return digest
    }

    private static func nibble(_ digit: UInt8) -> UInt8 { digit <= 57 ? digit - 48 : digit - 87 }
}
