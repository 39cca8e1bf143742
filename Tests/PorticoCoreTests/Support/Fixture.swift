import Foundation
import PorticoCore

/// A small portfolio most tests start from: an app, an admin system user with a business_management
/// token, a regular system user, a person and an ad account.
struct Fixture {
    let portfolio: PortfolioID
    let app: AppID
    let adminUser: PrincipalID
    let admin: Caller
    let bot: PrincipalID
    let alice: PrincipalID
    let ads: AssetID

    static func make(_ portico: Portico, name: String = "Acme") async throws -> Fixture {
        let portfolio = PortfolioID(try await portico.execute(.createPortfolio(name: name, tier: .standard),
                                                              as: .operator).createdID!)
        let app = AppID(try await portico.execute(.createApp(portfolio, name: "app"), as: .operator).createdID!)
        let adminUser = PrincipalID(try await portico.execute(.addSystemUser(portfolio, name: "admin", role: .admin),
                                                              as: .operator).createdID!)
        let token = TokenID(try await portico.execute(.generateToken(adminUser, app: app,
                                                                     scopes: ScopeSet(.businessManagement),
                                                                     expiry: .never), as: .operator).createdID!)
        let admin = Caller.systemUser(token)
        let bot = PrincipalID(try await portico.execute(.addSystemUser(portfolio, name: "bot", role: .employee),
                                                        as: admin).createdID!)
        let alice = PrincipalID(try await portico.execute(.addPerson(portfolio, name: "alice", role: .employee),
                                                          as: admin).createdID!)
        let ads = AssetID(try await portico.execute(.addAsset(portfolio, type: .adAccount, name: "ads"),
                                                    as: admin).createdID!)
        return Fixture(portfolio: portfolio, app: app, adminUser: adminUser, admin: admin, bot: bot, alice: alice,
                       ads: ads)
    }
}

/// JSON round trip of stored changes, as a durable store might persist them.
enum JSONEncoderProxy {
    static func encode(_ changes: [Change]) throws -> Data { try JSONEncoder().encode(changes) }
    static func decode(_ data: Data) throws -> [Change] { try JSONDecoder().decode([Change].self, from: data) }
}
