import Foundation
import PorticoCore
import Testing

/// The tables of docs/model.md are the code's: each is compared with what TaskLattice, Scope and Command
/// say. On a difference the failure prints the rows the page should hold, ready to paste.
@Suite("docs/model.md tables match the code")
struct ModelDocTests {
    @Test("each table is what the code makes", arguments: ["tasks", "implications", "scopes", "scopes-by-task"])
    func table(_ name: String) throws {
        let expected: [[String]] =
            switch name {
            case "tasks": ModelTables.tasks
            case "implications": ModelTables.implications
            case "scopes": ModelTables.scopes
            default: ModelTables.scopesByTask
            }
        let documented = try ModelDoc.table(name)
        #expect(
            documented == ModelTables.plain(expected),
            "docs/model.md's table \(name) should read:\n\(ModelDoc.markdown(expected))"
        )
    }

    /// The examples the page gives in words, checked by hand so a wrong generator cannot hide them.
    @Test("a Page's CREATE_CONTENT implies MODERATE, MESSAGING, ADVERTISE, ANALYZE; ads_management covers pixels")
    func spotChecks() throws {
        let implications = try ModelDoc.table("implications")
        let createContent = try #require(implications.first { $0[0] == "PAGE" && $0[1] == "CREATE_CONTENT" })
        #expect(Set(ModelDoc.items(createContent[3])) == ["MODERATE", "MESSAGING", "ADVERTISE", "ANALYZE"])
        let moderate = try #require(implications.first { $0[0] == "PAGE" && $0[1] == "MODERATE" })
        #expect(ModelDoc.items(moderate[2]) == ["ADVERTISE", "MESSAGING"])
        let scopes = try ModelDoc.table("scopes")
        let ads = scopes.filter { $0[0] == "ads_management" }.map { [$0[1], $0[2]] }
        #expect(
            ads == [
                ["AD_ACCOUNT", "MANAGE, ADVERTISE, DRAFT, ANALYZE"], ["CATALOG", "ADVERTISE"], ["PIXEL", "ADVERTISE"],
            ])
    }

    @Test("the audit log's operation names are every command's, and only those")
    func operations() throws {
        let documented = try ModelDoc.table("operations").map { $0[0] }
        let names = CommandSamples.all.map(\.name)
        #expect(Set(names).count == names.count, "two samples of one command")
        #expect(documented == names, "docs/model.md's operations should be, in this order: \(names)")
    }
}

/// One command of each kind, in declaration order.
enum CommandSamples {
    static let all: [Command] = {
        let portfolio = PortfolioID(1)
        let principal = PrincipalID(2)
        let asset = AssetID(3)
        let tasks = TaskSet(.analyze)
        return [
            .createPortfolio(name: "p", tier: .none), .setPortfolioStatus(portfolio, .active),
            .setSystemUserTier(portfolio, .standard), .issueServiceCredential(name: "s"),
            .revokeServiceCredential(CredentialID(4)), .addPerson(portfolio, name: "a", role: .employee),
            .setRole(principal, .admin), .removePrincipal(principal), .createApp(portfolio, name: "app"),
            .addSystemUser(portfolio, name: "bot", role: .employee), .addAsset(portfolio, type: .page, name: "x"),
            .removeAsset(asset), .assign(principal, asset, tasks), .unassign(principal, asset),
            .share(asset, with: portfolio, tasks), .unshare(asset, from: portfolio),
            .addPartner(portfolio, partner: PortfolioID(5)), .removePartner(portfolio, partner: PortfolioID(5)),
            .requestShare(asset, by: portfolio, tasks), .approveShareRequest(ShareRequestID(6)),
            .declineShareRequest(ShareRequestID(6)),
            .generateToken(principal, app: AppID(7), scopes: ScopeSet(.adsRead), expiry: .never),
            .revokeToken(TokenID(8)), .revokeAllTokens(principal), .expireAssignments(portfolio),
            .setExternalID(.asset, asset.rawValue, "act_1234567890"),
        ]
    }()

    /// Does not compile when a command is added until it is named here, a reminder to add its sample
    /// above and its row to docs/model.md.
    static func listed(_ command: Command) -> Bool {
        switch command {
        case .createPortfolio, .setPortfolioStatus, .setSystemUserTier, .issueServiceCredential,
            .revokeServiceCredential, .addPerson, .setRole, .removePrincipal, .createApp, .addSystemUser, .addAsset,
            .removeAsset, .assign, .unassign, .share, .unshare, .addPartner, .removePartner, .requestShare,
            .approveShareRequest, .declineShareRequest, .generateToken, .revokeToken, .revokeAllTokens,
            .expireAssignments, .setExternalID:
            true
        }
    }
}
