/// A core-assigned identifier; `Kind` keeps an asset id from being passed where a principal id goes.
///
/// All kinds draw from one counter in `AccessState`, so an id is unique across the whole service.
public struct EntityID<Kind>: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: UInt64

    @inlinable
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(UInt64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { String(rawValue) }
}

/// Phantom kinds for `EntityID`.
public enum PortfolioKind {}
public enum PrincipalKind {}
public enum AppKind {}
public enum AssetKind {}
public enum TokenKind {}
public enum CredentialKind {}
public enum ShareRequestKind {}

public typealias PortfolioID = EntityID<PortfolioKind>
/// A person or a system user: both are principals, and a check does not care which.
public typealias PrincipalID = EntityID<PrincipalKind>
public typealias AppID = EntityID<AppKind>
public typealias AssetID = EntityID<AssetKind>
public typealias TokenID = EntityID<TokenKind>
public typealias CredentialID = EntityID<CredentialKind>
public typealias ShareRequestID = EntityID<ShareRequestKind>

/// The global, monotonically increasing number of committed changes.
public typealias Revision = UInt64
