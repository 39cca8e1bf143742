/// The kinds of business asset a portfolio can own.
public enum AssetType: UInt8, CaseIterable, Hashable, Sendable, Codable {
    case adAccount
    case page
    case catalog
    case pixel
    case instagramAccount
    case whatsappBusinessAccount

    /// The Graph API spelling (`AD_ACCOUNT`, ...), used by scenarios and the wire.
    public var name: String {
        switch self {
        case .adAccount: "AD_ACCOUNT"
        case .page: "PAGE"
        case .catalog: "CATALOG"
        case .pixel: "PIXEL"
        case .instagramAccount: "INSTAGRAM_ACCOUNT"
        case .whatsappBusinessAccount: "WHATSAPP_BUSINESS_ACCOUNT"
        }
    }

    /// Parses the Graph API spelling.
    public init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }
}
