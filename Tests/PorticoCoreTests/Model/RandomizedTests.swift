import PorticoCore
import Testing

/// SplitMix64: small, seedable, so a failing run can be replayed from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Randomized against a reference model")
struct RandomizedTests {
    @Test(
        "thousands of random operations: every result and every check agrees with the reference",
        arguments: [1, 2, 3] as [UInt64])
    func agreesWithReference(seed: UInt64) async throws {
        var random = SeededGenerator(state: seed)
        let portico = try await Portico.open(clock: ManualClock())
        var model = ReferenceModel()
        var portfolios: [UInt64] = []
        var people: [UInt64] = []
        var assets: [UInt64] = []
        var shared = 0

        func pick(_ ids: [UInt64]) -> UInt64 { ids.isEmpty ? 999_999 : ids.randomElement(using: &random)! }
        func randomTasks(_ type: AssetType?) -> Set<AssetTask> {
            let pool = type.map { Array(ReferenceModel.valid[$0]!) } ?? AssetTask.allCases
            var tasks = Set(
                (0..<Int.random(in: 1...2, using: &random)).map { _ in pool.randomElement(using: &random)! })
            if Int.random(in: 0..<20, using: &random) == 0 {
                tasks.insert(AssetTask.allCases.randomElement(using: &random)!)
            }
            return tasks
        }

        for _ in 0..<4 {
            let id = try await portico.execute(.createPortfolio(name: "p", tier: .none), as: .operator).createdID!
            portfolios.append(id)
            model.status[id] = .active
        }
        for step in 0..<5000 {
            let command: Command
            var expected: String?
            var created: ((UInt64) -> Void)?
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<5:
                let portfolio = pick(portfolios)
                let admin = Int.random(in: 0..<5, using: &random) == 0
                command = .addPerson(PortfolioID(portfolio), name: "x", role: admin ? .admin : .employee)
                expected = model.writable(portfolio)
                created = {
                    people.append($0)
                    model.principals[$0] = .init(portfolio: portfolio, admin: admin)
                }
            case 5..<10:
                let portfolio = pick(portfolios)
                let type = AssetType.allCases.randomElement(using: &random)!
                command = .addAsset(PortfolioID(portfolio), type: type, name: "a")
                expected = model.writable(portfolio)
                created = {
                    assets.append($0)
                    model.assets[$0] = (portfolio, type)
                }
            case 10..<45:
                let (principal, asset) = (pick(people), pick(assets))
                let tasks = randomTasks(model.assets[asset]?.type)
                command = .assign(PrincipalID(principal), AssetID(asset), TaskSet(tasks))
                expected = model.assign(principal, asset, tasks)
            case 45..<52:
                let (principal, asset) = (pick(people), pick(assets))
                command = .unassign(PrincipalID(principal), AssetID(asset))
                expected = model.unassign(principal, asset)
            case 52..<64:
                let (asset, partner) = (pick(assets), pick(portfolios))
                let tasks = randomTasks(model.assets[asset]?.type)
                command = .share(AssetID(asset), with: PortfolioID(partner), TaskSet(tasks))
                expected = model.share(asset, partner, tasks)
            case 64..<72:
                let (portfolio, partner) = (pick(portfolios), pick(portfolios))
                command = .addPartner(PortfolioID(portfolio), partner: PortfolioID(partner))
                expected = model.addPartner(portfolio, partner)
            case 72..<75:
                let (asset, partner) = (pick(assets), pick(portfolios))
                command = .unshare(AssetID(asset), from: PortfolioID(partner))
                expected = model.unshare(asset, partner)
            case 75..<77:
                let (portfolio, partner) = (pick(portfolios), pick(portfolios))
                command = .removePartner(PortfolioID(portfolio), partner: PortfolioID(partner))
                expected = model.removePartner(portfolio, partner)
            case 77..<81:
                let principal = pick(people)
                command = .removePrincipal(PrincipalID(principal))
                expected = model.removePrincipal(principal)
            case 81..<84:
                let asset = pick(assets)
                command = .removeAsset(AssetID(asset))
                expected = model.removeAsset(asset)
            case 84..<90:
                let principal = pick(people)
                let admin = Bool.random(using: &random)
                command = .setRole(PrincipalID(principal), admin ? .admin : .employee)
                expected = model.setRole(principal, admin: admin)
            default:
                let portfolio = pick(portfolios)
                let status = [PortfolioStatus.active, .active, .restricted, .disabled].randomElement(using: &random)!
                command = .setPortfolioStatus(PortfolioID(portfolio), status)
                model.status[portfolio] = status
            }
            do {
                let result = try await portico.execute(command, as: .operator)
                #expect(
                    expected == nil, "seed \(seed) step \(step): \(command) succeeded, reference expected \(expected!)")
                if case .share = command { shared += 1 }
                if let id = result.createdID { created?(id) }
            } catch let error as PorticoError {
                #expect(expected == error.code.name, "seed \(seed) step \(step): \(command) -> \(error)")
            }
            if step % 50 == 49 {
                // A sample between full comparisons: principals and assets alive, removed and unknown.
                let snapshot = portico.snapshot
                for _ in 0..<500 {
                    let (principal, asset) = (pick(people + [999_999]), pick(assets + [999_999]))
                    let task = AssetTask.allCases.randomElement(using: &random)!
                    let got = snapshot.check(
                        principal: PrincipalID(principal), asset: AssetID(asset), task: task,
                        now: Timestamp(milliseconds: 0)
                    ).reason
                    #expect(
                        got == model.check(principal, asset, task),
                        "seed \(seed) step \(step) check(\(principal), \(asset), \(task.name))")
                }
            }
        }
        // Enough of the random commands were accepted for the comparison to mean something.
        #expect(portico.snapshot.revision > 1200, "only \(portico.snapshot.revision) changes committed")
        #expect(StateInvariants.violations(in: portico.snapshot.state).isEmpty)
        #expect(shared > 50, "only \(shared) shares were accepted")
        compareAll(portico.snapshot, model, people: people, assets: assets + [999_999], seed: seed)
        compareLookups(portico.snapshot, model, people: people, assets: assets)
    }

    /// Every (principal, asset, task) agrees, reason included, over an evenly spread subset of ids
    /// (every id in full would take minutes in a debug build).
    private func compareAll(
        _ snapshot: AccessSnapshot, _ model: ReferenceModel, people: [UInt64], assets: [UInt64],
        seed: UInt64
    ) {
        func spread(_ ids: [UInt64]) -> [UInt64] {
            stride(from: 0, to: ids.count, by: max(1, ids.count / 50)).map { ids[$0] } + ids.suffix(1)
        }
        var disagreements = 0
        for principal in spread(people) {
            for asset in spread(assets) {
                for task in AssetTask.allCases {
                    let got = snapshot.check(
                        principal: PrincipalID(principal), asset: AssetID(asset), task: task,
                        now: Timestamp(milliseconds: 0)
                    ).reason
                    let want = model.check(principal, asset, task)
                    if got != want {
                        disagreements += 1
                        if disagreements < 5 {
                            let call = "check(\(principal), \(asset), \(task.name))"
                            Issue.record("seed \(seed): \(call) = \(got.name), reference \(want.name)")
                        }
                    }
                }
            }
        }
        #expect(disagreements == 0)
    }

    /// The lookups list exactly what the check allows.
    private func compareLookups(_ snapshot: AccessSnapshot, _ model: ReferenceModel, people: [UInt64], assets: [UInt64])
    {
        for task in [AssetTask.analyze, .advertise, .manage] {
            for principal in people {
                let listed =
                    (try? snapshot.assets(
                        of: PrincipalID(principal), task: task,
                        page: PageRequest(limit: 1000), now: Timestamp(milliseconds: 0)))?
                    .items.map(\.asset.rawValue)
                let allowed = assets.filter { model.check(principal, $0, task).allows }.sorted()
                #expect(listed == allowed, "assets of \(principal) for \(task.name)")
            }
            for asset in assets where model.assets[asset] != nil {
                let listed =
                    (try? snapshot.principals(
                        on: AssetID(asset), task: task,
                        page: PageRequest(limit: 1000), now: Timestamp(milliseconds: 0)))?
                    .items.map(\.principal.rawValue)
                let allowed = people.filter { model.check($0, asset, task).allows }.sorted()
                #expect(listed == allowed, "principals on \(asset) for \(task.name)")
            }
        }
    }
}
