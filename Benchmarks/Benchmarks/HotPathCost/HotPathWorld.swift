import CheckEngineSet
import PorticoCore
import PorticoWire

/// The data the server answers from while its instructions are counted: small (a few thousand
/// assignments, built through the core in seconds even under valgrind), since what a check costs in
/// instructions does not depend on the size of the set; only its cache misses do, which callgrind does
/// not count.
///
/// Per portfolio: an admin, 20 employees, 10 regular system users (5 tokens each), 20 assets of every
/// type; each employee and system user assigned one random valid task on 10 of the assets; the first two
/// assets shared (every task) with the next portfolio.
struct HotPathWorld: Sendable {
    struct Member {
        let id: UInt64
        let isPerson: Bool
        /// The assets it is assigned to, with their types.
        let assets: [(AssetID, PorticoCore.AssetType)]
    }

    let portico: Portico
    let members: [Member]
    /// Token secrets, each with an asset of its system user and a task the token's scopes cover.
    let tokens: [(secret: String, asset: AssetID, task: PorticoCore.AssetTask)]

    static func build(portfolios: Int) async throws -> HotPathWorld {
        var random = SplitMix(state: 7)
        let portico = try await Portico.open(store: InMemoryChangeStore())
        func create(_ command: Command) async throws -> UInt64 {
            try await portico.execute(command, as: .operator).createdID!
        }
        var members: [Member] = []
        var tokens: [(String, AssetID, PorticoCore.AssetTask)] = []
        var ids: [PortfolioID] = []
        var firstAssets: [[(AssetID, PorticoCore.AssetType)]] = []
        for index in 0..<portfolios {
            let portfolio = PortfolioID(try await create(.createPortfolio(name: "P\(index)", tier: .advanced)))
            ids.append(portfolio)
            let app = AppID(try await create(.createApp(portfolio, name: "app")))
            _ = try await create(.addPerson(portfolio, name: "admin", role: .admin))
            var assets: [(AssetID, PorticoCore.AssetType)] = []
            for number in 0..<20 {
                let type = PorticoCore.AssetType.allCases[number % PorticoCore.AssetType.allCases.count]
                assets.append((AssetID(try await create(.addAsset(portfolio, type: type, name: "a"))), type))
            }
            firstAssets.append(Array(assets.prefix(2)))
            for number in 0..<30 {
                let isPerson = number < 20
                let principal = PrincipalID(
                    try await create(
                        isPerson
                            ? .addPerson(portfolio, name: "e", role: .employee)
                            : .addSystemUser(portfolio, name: "s", role: .employee)))
                var mine: [(AssetID, PorticoCore.AssetType)] = []
                for (asset, type) in assets.shuffled(using: &random).prefix(10) {
                    let task = TaskLattice.validTasks(for: type).tasks.randomElement(using: &random)!
                    try await portico.execute(.assign(principal, asset, TaskSet(task)), as: .operator)
                    mine.append((asset, type))
                }
                members.append(Member(id: principal.rawValue, isPerson: isPerson, assets: mine))
                guard !isPerson else { continue }
                for _ in 0..<5 {
                    let result = try await portico.execute(
                        .generateToken(principal, app: app, scopes: ScopeSet(Scope.allCases), expiry: .never),
                        as: .operator)
                    let (asset, type) = mine.randomElement(using: &random)!
                    let task = TaskLattice.validTasks(for: type).tasks.randomElement(using: &random)!
                    tokens.append((result.secret!, asset, task))
                }
            }
        }
        for index in 0..<portfolios where portfolios > 1 {
            let partner = ids[(index + 1) % portfolios]
            try await portico.execute(.addPartner(ids[index], partner: partner), as: .operator)
            for (asset, type) in firstAssets[index] {
                try await portico.execute(
                    .share(asset, with: partner, TaskLattice.validTasks(for: type)), as: .operator)
            }
        }
        return HotPathWorld(portico: portico, members: members, tokens: tokens)
    }

    /// `count` checks by principal: a member on one of its assets (allowed or not, by the task drawn),
    /// or on an asset of another member (mostly denied), in a seeded order.
    func checkItems(_ count: Int) -> [CheckItem] {
        var random = SplitMix(state: 11)
        return (0..<count).map { _ in
            let member = self.members.randomElement(using: &random)!
            let owner =
                Int.random(in: 0..<4, using: &random) == 0 ? self.members.randomElement(using: &random)! : member
            let (asset, type) = owner.assets.randomElement(using: &random)!
            let task = TaskLattice.validTasks(for: type).tasks.randomElement(using: &random)!
            return CheckItem(
                assetID: asset.rawValue,
                task: PorticoWire.AssetTask(protoValueName: "ASSET_TASK_" + task.name)!,
                subject: member.isPerson ? .personID(member.id) : .systemUserID(member.id)
            )
        }
    }
}
