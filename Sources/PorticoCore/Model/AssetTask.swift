/// One task a principal may perform on an asset; the raw value is its bit in a `TaskSet`.
///
/// Named `AssetTask`, not `Task`, so that Swift Concurrency's `Task` stays visible.
public enum AssetTask: UInt8, CaseIterable, Hashable, Sendable, Codable {
    case manage
    case advertise
    case draft
    case analyze
    case createContent
    case moderate
    case messaging
    case edit
    case upload
    case content
    case communityActivity
    case messages
    case manageTemplates
    case viewTemplates
    case managePhone
    case managePhoneAssets
    case viewPhoneAssets
    case develop
    case manageExtensions
    case viewCost

    /// The Graph API spelling (`MANAGE`, `CREATE_CONTENT`, ...).
    public var name: String {
        switch self {
        case .manage: "MANAGE"
        case .advertise: "ADVERTISE"
        case .draft: "DRAFT"
        case .analyze: "ANALYZE"
        case .createContent: "CREATE_CONTENT"
        case .moderate: "MODERATE"
        case .messaging: "MESSAGING"
        case .edit: "EDIT"
        case .upload: "UPLOAD"
        case .content: "CONTENT"
        case .communityActivity: "COMMUNITY_ACTIVITY"
        case .messages: "MESSAGES"
        case .manageTemplates: "MANAGE_TEMPLATES"
        case .viewTemplates: "VIEW_TEMPLATES"
        case .managePhone: "MANAGE_PHONE"
        case .managePhoneAssets: "MANAGE_PHONE_ASSETS"
        case .viewPhoneAssets: "VIEW_PHONE_ASSETS"
        case .develop: "DEVELOP"
        case .manageExtensions: "MANAGE_EXTENSIONS"
        case .viewCost: "VIEW_COST"
        }
    }

    /// Parses the Graph API spelling.
    public init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }
}
