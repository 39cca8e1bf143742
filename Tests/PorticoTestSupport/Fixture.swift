public import PorticoCore

/// A small portfolio most core and store tests start from: an app, an admin system user with a
/// business_management token, a regular system user, a person and an ad account.
public struct Fixture: Sendable {
    public let portfolio: PortfolioID
    public let app: AppID
    public let adminUser: PrincipalID
    public let admin: Caller
    public let bot: PrincipalID
    public let alice: PrincipalID
    public let ads: AssetID

    /// Builds the portfolio in `portico` through its commands, as the operator and then its admin.
    public static func make(_ portico: Portico, name: String = "Acme") async throws -> Fixture {
        func created(_ command: Command, as caller: Caller = .operator) async throws -> UInt64 {
            guard let id = try await portico.execute(command, as: caller).createdID else {
                throw ScenarioError.malformed("\(command) created nothing")
            }
            return id
        }
        let portfolio = PortfolioID(try await created(.createPortfolio(name: name, tier: .standard)))
        let app = AppID(try await created(.createApp(portfolio, name: "app")))
        let adminUser = PrincipalID(try await created(.addSystemUser(portfolio, name: "admin", role: .admin)))
        let token = TokenID(
            try await created(
                .generateToken(adminUser, app: app, scopes: ScopeSet(.businessManagement), expiry: .never)
            )
        )
        let admin = Caller.systemUser(token)
        let bot = PrincipalID(try await created(.addSystemUser(portfolio, name: "bot", role: .employee), as: admin))
        let alice = PrincipalID(try await created(.addPerson(portfolio, name: "alice", role: .employee), as: admin))
        let ads = AssetID(try await created(.addAsset(portfolio, type: .adAccount, name: "ads"), as: admin))
        return Fixture(
            portfolio: portfolio,
            app: app,
            adminUser: adminUser,
            admin: admin,
            bot: bot,
            alice: alice,
            ads: ads
        )
    }
}
