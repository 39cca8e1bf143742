import HashTreeCollections
import PorticoCore
import Testing

/// The preview against the truth: for random states and random proposed changes, what `preview` answers
/// equals the difference of every check before and after the changes are really made.
@Suite("Preview equals the difference of checks")
struct PreviewPropertyTests {
    /// Ids of a random world, by kind.
    private struct World {
        var portfolios: [PortfolioID] = []
        var principals: [PrincipalID] = []
        var systemUsers: [PrincipalID] = []
        var assets: [AssetID] = []
        var tokens: [TokenID] = []
        var apps: [PortfolioID: AppID] = [:]
    }

    @Test("random states, random proposals: preview rows == checks before vs after", arguments: Array(UInt64(1)...6))
    func previewIsTheDifferenceOfChecks(seed: UInt64) async throws {
        var random = SeededGenerator(state: seed)
        let clock = ManualClock()
        let portico = try await Portico.open(clock: clock)
        var world = World()
        func pick<T>(_ values: [T]) -> T? { values.randomElement(using: &random) }
        func tasks(for asset: AssetID?) -> TaskSet {
            let type = asset.flatMap { portico.snapshot.state.assets[$0]?.type } ?? .page
            let valid = TaskLattice.validTasks(for: type).tasks
            let count = Int.random(in: 1...2, using: &random)
            return TaskSet((0..<count).compactMap { _ in valid.randomElement(using: &random) })
        }
        /// A random change among those that build a world; refused ones are simply not kept.
        func grow() async {
            let roll = Int.random(in: 0..<100, using: &random)
            let command: Command
            switch roll {
            case ..<8 where world.portfolios.count < 4:
                command = .createPortfolio(name: "p", tier: .standard)
            case ..<30:
                guard let portfolio = pick(world.portfolios) else { return }
                command = .addPerson(portfolio, name: "n", role: Bool.random(using: &random) ? .admin : .employee)
            case ..<38:
                guard let portfolio = pick(world.portfolios) else { return }
                command = world.apps[portfolio] == nil ? .createApp(portfolio, name: "app")
                    : .addSystemUser(portfolio, name: "s", role: .employee)
            case ..<44:
                guard let user = pick(world.systemUsers), let home = portico.snapshot.state.principals[user]?.portfolio,
                      let app = world.apps[home], let scope = pick(Scope.allCases) else { return }
                command = .generateToken(user, app: app, scopes: ScopeSet([scope, .businessManagement]), expiry: .never)
            case ..<58:
                guard let portfolio = pick(world.portfolios), let type = pick(AssetType.allCases) else { return }
                command = .addAsset(portfolio, type: type, name: "a")
            case ..<64:
                guard let portfolio = pick(world.portfolios), let partner = pick(world.portfolios) else { return }
                command = .addPartner(portfolio, partner: partner)
            case ..<74:
                guard let asset = pick(world.assets), let partner = pick(world.portfolios) else { return }
                command = .share(asset, with: partner, tasks(for: asset))
            default:
                guard let principal = pick(world.principals), let asset = pick(world.assets) else { return }
                let expiry = Int.random(in: 0..<3, using: &random) == 0
                    ? clock.now().adding(days: Int.random(in: 1...3, using: &random)) : nil
                command = .assign(principal, asset, tasks(for: asset), expiresAt: expiry)
            }
            guard let result = try? await portico.execute(command, as: .operator), let id = result.createdID else {
                return
            }
            switch command {
            case .createPortfolio: world.portfolios.append(PortfolioID(id))
            case .addPerson: world.principals.append(PrincipalID(id))
            case .addSystemUser:
                world.principals.append(PrincipalID(id))
                world.systemUsers.append(PrincipalID(id))
            case .createApp(let portfolio, _, _): world.apps[portfolio] = AppID(id)
            case .generateToken: world.tokens.append(TokenID(id))
            case .addAsset: world.assets.append(AssetID(id))
            default: break
            }
        }
        /// A random previewable change, often one the core refuses (a missing target, no partnership).
        func proposal() -> Command? {
            switch Int.random(in: 0..<9, using: &random) {
            case 0:
                guard let principal = pick(world.principals), let asset = pick(world.assets) else { return nil }
                return .assign(principal, asset, tasks(for: asset))
            case 1:
                guard let principal = pick(world.principals), let asset = pick(world.assets) else { return nil }
                return .unassign(principal, asset)
            case 2: return pick(world.principals).map { .removePrincipal($0) }
            case 3:
                guard let asset = pick(world.assets), let partner = pick(world.portfolios) else { return nil }
                return .share(asset, with: partner, tasks(for: asset))
            case 4:
                guard let asset = pick(world.assets), let partner = pick(world.portfolios) else { return nil }
                return .unshare(asset, from: partner)
            case 5:
                guard let portfolio = pick(world.portfolios), let partner = pick(world.portfolios) else { return nil }
                return .removePartner(portfolio, partner: partner)
            case 6: return pick(world.assets).map { .removeAsset($0) }
            case 7: return pick(world.tokens).map { .revokeToken($0) }
            default: return pick(world.systemUsers).map { .revokeAllTokens($0) }
            }
        }

        for _ in 0..<150 { await grow() }
        var compared = 0
        var changedAccess = 0
        for _ in 0..<80 {
            for _ in 0..<5 { await grow() }
            if Bool.random(using: &random) { clock.advance(days: 1) }
            let commands = (0..<Int.random(in: 1...3, using: &random)).compactMap { _ in proposal() }
            guard !commands.isEmpty else { continue }
            let before = portico.snapshot
            let now = clock.now()
            var rows: [AccessChange] = []
            var previewError: PorticoError?
            do {
                var after: AccessChange.Key?
                repeat {
                    let page = try before.preview(commands, as: .operator, now: now, after: after, limit: 7)
                    #expect(page.revision == before.revision)
                    rows += page.changes
                    after = page.next
                } while after != nil
            } catch let error as PorticoError {
                previewError = error
            }
            // Really make them, in order; the first refusal must be the preview's.
            var applyError: PorticoError?
            for command in commands {
                do {
                    _ = try await portico.execute(command, as: .operator)
                } catch let error as PorticoError {
                    applyError = error
                    break
                }
            }
            if let applyError {
                #expect(previewError?.code == applyError.code, "seed \(seed): \(commands): \(applyError)")
                // Changes made before the refusal stay made: the world goes on from there.
                continue
            }
            #expect(previewError == nil, "seed \(seed): \(commands): \(String(describing: previewError))")
            let truth = Self.difference(before, portico.snapshot, now: now)
            let got = Set(rows.map { "\($0.subject) \($0.asset) \($0.before) -> \($0.after)" })
            #expect(got == truth, "seed \(seed): \(commands)")
            #expect(rows.map(\.key) == rows.map(\.key).sorted(), "rows in order")
            compared += 1
            if !truth.isEmpty { changedAccess += 1 }
        }
        #expect(compared >= 10, "seed \(seed): only \(compared) proposals were accepted")
        #expect(changedAccess >= 5, "seed \(seed): only \(changedAccess) accepted proposals changed any access")
    }

    /// Every (principal, asset) whose tasks differ, and every token revoked between the two snapshots with
    /// the tasks it had, checked task by task.
    private static func difference(_ before: AccessSnapshot, _ after: AccessSnapshot, now: Timestamp) -> Set<String> {
        func tasks(_ snapshot: AccessSnapshot, _ asset: AssetID, _ allowed: (AssetTask) -> Bool) -> TaskSet {
            guard let type = snapshot.state.assets[asset]?.type else { return [] }
            return TaskSet(TaskLattice.validTasks(for: type).tasks.filter(allowed))
        }
        var rows = Set<String>()
        let assets = Set(before.state.assets.keys)
        for principal in before.state.principals.keys {
            for asset in assets {
                let old = tasks(before, asset) {
                    before.check(principal: principal, asset: asset, task: $0, now: now).allowed
                }
                let new = tasks(after, asset) {
                    after.check(principal: principal, asset: asset, task: $0, now: now).allowed
                }
                if old != new { rows.insert("\(AccessChange.Subject.principal(principal)) \(asset) \(old) -> \(new)") }
            }
        }
        for (token, record) in before.state.tokens where !record.revoked && after.state.tokens[token]?.revoked == true {
            for asset in assets {
                let old = tasks(before, asset) { before.check(token: token, asset: asset, task: $0, now: now).allowed }
                let new = tasks(after, asset) { after.check(token: token, asset: asset, task: $0, now: now).allowed }
                if old != new { rows.insert("\(AccessChange.Subject.token(token)) \(asset) \(old) -> \(new)") }
            }
        }
        return rows
    }
}
