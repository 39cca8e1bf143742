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

    /// A multiply-xorshift of the id instead of SipHash: ids are handed out by the core from one counter,
    /// never chosen by a caller, so nobody can pick keys that collide, and every hash-tree lookup of a
    /// check hashes ids. Hash trees read the low bits first, which the multiply spreads well.
    @inlinable
    public func _rawHashValue(seed: Int) -> Int {
        Int(truncatingIfNeeded: IDHash.mix(rawValue ^ UInt64(truncatingIfNeeded: seed)))
    }
}

/// The cheap hash of core-assigned ids (see `EntityID._rawHashValue(seed:)`).
public enum IDHash {
    /// A bijection of 64 bits: an odd multiply (low bits of the result depend on low bits of the input,
    /// so sequential ids fill a hash tree's first levels evenly), then the high half folded down.
    @inlinable
    public static func mix(_ value: UInt64) -> UInt64 {
        let product = value &* 0x9E37_79B9_7F4A_7C15
        return product ^ (product &>> 29)
    }
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
