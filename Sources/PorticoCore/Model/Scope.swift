/// A permission a token carries (Graph API login permissions).
///
/// A scope covers exactly the tasks its row of docs/model.md lists, never the tasks those imply: a token
/// with `pages_manage_posts` may CREATE_CONTENT but not MODERATE, even though CREATE_CONTENT implies
/// MODERATE for the principal. Principal and token are separate fences; both must let the task through.
public enum Scope: UInt8, CaseIterable, Hashable, Sendable, Codable {
    case businessManagement
    case adsManagement
    case adsRead
    case pagesManagePosts
    case pagesManageEngagement
    case pagesMessaging
    case pagesReadEngagement
    case pagesManageMetadata
    case catalogManagement
    case instagramBasic
    case instagramContentPublish
    case instagramManageComments
    case instagramManageMessages
    case instagramManageAds
    case whatsappBusinessManagement
    case whatsappBusinessMessaging

    /// The Graph API spelling (`ads_management`, ...).
    public var name: String {
        switch self {
        case .businessManagement: "business_management"
        case .adsManagement: "ads_management"
        case .adsRead: "ads_read"
        case .pagesManagePosts: "pages_manage_posts"
        case .pagesManageEngagement: "pages_manage_engagement"
        case .pagesMessaging: "pages_messaging"
        case .pagesReadEngagement: "pages_read_engagement"
        case .pagesManageMetadata: "pages_manage_metadata"
        case .catalogManagement: "catalog_management"
        case .instagramBasic: "instagram_basic"
        case .instagramContentPublish: "instagram_content_publish"
        case .instagramManageComments: "instagram_manage_comments"
        case .instagramManageMessages: "instagram_manage_messages"
        case .instagramManageAds: "instagram_manage_ads"
        case .whatsappBusinessManagement: "whatsapp_business_management"
        case .whatsappBusinessMessaging: "whatsapp_business_messaging"
        }
    }

    /// Parses the Graph API spelling.
    public init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    /// The tasks this scope lets a token perform on an asset of `type`.
    ///
    /// `business_management` covers administration calls only, no asset task. No scope covers PAGE
    /// ADVERTISE (nor PIXEL EDIT or UPLOAD), so a token can never perform them; docs/model.md lists this.
    public func covers(_ type: AssetType) -> TaskSet {
        switch (self, type) {
        case (.adsManagement, .adAccount): TaskLattice.validTasks(for: .adAccount)
        case (.adsManagement, .pixel), (.adsManagement, .catalog): [TaskSet(.advertise)]
        case (.adsRead, .adAccount), (.adsRead, .pixel): [TaskSet(.analyze)]
        case (.pagesManagePosts, .page): [TaskSet(.createContent)]
        case (.pagesManageEngagement, .page): [TaskSet(.moderate)]
        case (.pagesMessaging, .page): [TaskSet(.messaging)]
        case (.pagesReadEngagement, .page): [TaskSet(.analyze)]
        case (.pagesManageMetadata, .page): [TaskSet(.manage)]
        case (.catalogManagement, .catalog): TaskLattice.validTasks(for: .catalog)
        case (.instagramBasic, .instagramAccount): [TaskSet(.analyze)]
        case (.instagramContentPublish, .instagramAccount): [TaskSet(.content)]
        case (.instagramManageComments, .instagramAccount): [TaskSet(.communityActivity)]
        case (.instagramManageMessages, .instagramAccount): [TaskSet(.messages)]
        case (.instagramManageAds, .instagramAccount): [TaskSet(.advertise)]
        case (.whatsappBusinessManagement, .whatsappBusinessAccount):
            TaskLattice.validTasks(for: .whatsappBusinessAccount).subtracting(TaskSet(.messaging))
        case (.whatsappBusinessMessaging, .whatsappBusinessAccount): [TaskSet(.messaging)]
        default: []
        }
    }
}

/// A set of scopes as one word.
public struct ScopeSet: OptionSet, Hashable, Sendable, Codable {
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The set holding one scope.
    public init(_ scope: Scope) { self.rawValue = 1 &<< UInt32(scope.rawValue) }

    /// The set holding the given scopes.
    public init(_ scopes: some Sequence<Scope>) {
        self.rawValue = 0
        for scope in scopes { insert(ScopeSet(scope)) }
    }

    /// Whether the set holds `scope`.
    public func contains(_ scope: Scope) -> Bool { rawValue & (1 &<< UInt32(scope.rawValue)) != 0 }

    /// The scopes in declaration order.
    public var scopes: [Scope] { Scope.allCases.filter { contains($0) } }
}

/// What a set of scopes covers, per asset type, computed once when a token is made.
public struct ScopeCoverage: Hashable, Sendable {
    @usableFromInline var byType: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)

    /// The union of what every scope in `scopes` covers.
    public init(_ scopes: ScopeSet) {
        var words = [UInt32](repeating: 0, count: AssetType.allCases.count)
        for type in AssetType.allCases {
            for scope in scopes.scopes { words[Int(type.rawValue)] |= scope.covers(type).rawValue }
        }
        byType = (words[0], words[1], words[2], words[3], words[4], words[5])
    }

    /// The tasks covered on an asset of `type`.
    @inlinable
    public subscript(type: AssetType) -> TaskSet {
        switch type {
        case .adAccount: TaskSet(rawValue: byType.0)
        case .page: TaskSet(rawValue: byType.1)
        case .catalog: TaskSet(rawValue: byType.2)
        case .pixel: TaskSet(rawValue: byType.3)
        case .instagramAccount: TaskSet(rawValue: byType.4)
        case .whatsappBusinessAccount: TaskSet(rawValue: byType.5)
        }
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        AssetType.allCases.allSatisfy { lhs[$0] == rhs[$0] }
    }

    public func hash(into hasher: inout Hasher) {
        for type in AssetType.allCases { hasher.combine(self[type]) }
    }
}
