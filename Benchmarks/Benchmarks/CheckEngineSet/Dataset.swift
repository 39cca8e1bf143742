import Foundation
public import PorticoCore

/// A store that forgets: the benchmark measures the in-memory index, not a log kept beside it.
public final class DiscardingStore: ChangeStore {
    public init() {}
    public func append(_ changes: [Change]) async throws {}
    public func load() async throws -> [Change] { [] }
}

/// The generated portfolio set: `portfolios` portfolios, each with `employees` employees assigned to
/// every one of its `assets` assets (random tasks), an admin person, and two assets shared with the
/// next portfolio. 1000 x 50 x 20 = one million assignments. Every person and asset has an external id
/// (`u<portfolio>.<n>`, `admin<portfolio>`, `act_<10 digits>`), so that each query can name its principal
/// and asset both ways.
///
/// A library of the benchmarks package: the CheckEngine benchmarks time it, and hot-path-cost counts its
/// instructions under callgrind (a smaller set, same shape).
public struct Dataset: Sendable {
    public struct Query: Sendable {
        public let principal: PrincipalID
        public let asset: AssetID
        public let task: AssetTask
        public let principalName: ExternalName
        public let assetName: ExternalName
    }

    public static let defaultPortfolios =
        Int(ProcessInfo.processInfo.environment["PORTICO_BENCH_PORTFOLIOS"] ?? "") ?? 1000
    static let employees = 50
    static let assets = 20

    public let portico: Portico
    /// Uniformly random queries: every principal and asset equally likely (the worst case for caches).
    public let queries: [Query]
    /// The same mix with Zipf-skewed (s = 1) portfolios, people and assets: a few hot principals and
    /// assets take most checks, as in production traffic.
    public let zipfQueries: [Query]
    /// Secrets of live tokens of a regular system user, each with an asset and a task its scope covers.
    public let tokenQueries: [(secret: String, asset: AssetID, task: AssetTask)]
    /// Every assignment's tasks in a plain hash map: the reference a check is compared with.
    public let reference: ReferenceIndex
    public let assignments: Int
    /// Resident memory, in bytes, before and after the assignments were added.
    public let residentBeforeAssignments: Int
    public let residentAfterAssignments: Int
    /// Resident bytes per change that adds nothing to the index (its audit event only).
    public let residentPerAuditEvent: Double
    /// Assign commands per second through `Portico.execute` (one at a time, the store discarding).
    public let assignsPerSecond: Double

    /// - Parameters:
    ///   - portfolios: how many (1000 make the million assignments).
    ///   - auditFlips: changes that add nothing but their audit event, to measure one's memory (0: none).
    public static func build(portfolios: Int = Self.defaultPortfolios, auditFlips: Int = 100_000) async throws
        -> Dataset
    {
        var random = SplitMix(state: 42)
        let portico = try await Portico.open(store: DiscardingStore())
        var people: [[PrincipalID]] = []
        var admins: [PrincipalID] = []
        var owned: [[(AssetID, AssetType)]] = []
        var names: [UInt64: ExternalName] = [:]
        var portfolioIDs: [PortfolioID] = []
        for index in 0..<portfolios {
            let portfolio = PortfolioID(try await portico.execute(.createPortfolio(name: "P\(index)", tier: .none),
                                                                  as: .operator).createdID!)
            portfolioIDs.append(portfolio)
            let admin = "admin\(index)"
            admins.append(PrincipalID(try await portico.execute(
                .addPerson(portfolio, name: "admin", role: .admin, externalID: admin), as: .operator).createdID!))
            names[admins[index].rawValue] = ExternalName(.person, in: portfolio.rawValue, admin)
            var members: [PrincipalID] = []
            for member in 0..<employees {
                let external = "u\(index).\(member)"
                let id = try await portico.execute(
                    .addPerson(portfolio, name: "e", role: .employee, externalID: external), as: .operator).createdID!
                members.append(PrincipalID(id))
                names[id] = ExternalName(.person, in: portfolio.rawValue, external)
            }
            people.append(members)
            var assets: [(AssetID, AssetType)] = []
            for _ in 0..<Self.assets {
                let type = AssetType.allCases.randomElement(using: &random)!
                // From the id's position, not the generator: the set stays what it was before external ids.
                let external = "act_\(1_000_000_000 + portico.snapshot.state.nextID)"
                let id = try await portico.execute(
                    .addAsset(portfolio, type: type, name: "a", externalID: external), as: .operator).createdID!
                assets.append((AssetID(id), type))
                names[id] = ExternalName(.asset, in: portfolio.rawValue, external)
            }
            owned.append(assets)
        }
        for index in 0..<portfolios {
            // Sharing needs the owner to have taken the next portfolio as a partner.
            try await portico.execute(.addPartner(portfolioIDs[index], partner: portfolioIDs[(index + 1) % portfolios]),
                                      as: .operator)
            for (asset, type) in owned[index].prefix(2) {
                try await portico.execute(.share(asset, with: portfolioIDs[(index + 1) % portfolios],
                                                 TaskLattice.validTasks(for: type)), as: .operator)
            }
        }
        // The tasks are drawn first (in the order the loop below uses them), so that they are resident
        // before the memory the assignments add is measured, and the reference map built after it.
        var tasks: [AssetTask] = []
        tasks.reserveCapacity(portfolios * employees * Self.assets)
        for index in 0..<portfolios {
            for _ in people[index] {
                for (_, type) in owned[index] {
                    tasks.append(TaskLattice.validTasks(for: type).tasks.randomElement(using: &random)!)
                }
            }
        }
        let before = residentBytes()
        let clock = ContinuousClock()
        let started = clock.now
        var assignments = 0
        for index in 0..<portfolios {
            for principal in people[index] {
                for (asset, _) in owned[index] {
                    try await portico.execute(.assign(principal, asset, TaskSet(tasks[assignments])), as: .operator)
                    assignments += 1
                }
            }
        }
        let assignSeconds = (clock.now - started) / .seconds(1)
        let after = residentBytes()
        // Changes that leave the index as it was: what one audit event costs.
        let flips = auditFlips
        for step in 0..<flips {
            try await portico.execute(.setRole(admins[step % portfolios], step % 2 == 0 ? .employee : .admin),
                                      as: .operator)
        }
        let afterFlips = residentBytes()
        var reference = ReferenceIndex()
        var drawn = 0
        for index in 0..<portfolios {
            for principal in people[index] {
                for (asset, type) in owned[index] {
                    reference.insert(principal: principal, asset: asset,
                                     tasks: TaskLattice.closure(of: TaskSet(tasks[drawn]), for: type))
                    drawn += 1
                }
            }
        }

        // Hot items are spread over the id space by a seeded shuffle, so that "hot" is not "lowest id".
        let portfolioRanks = Array(0..<portfolios).shuffled(using: &random)
        let employeeRanks = Array(0..<employees).shuffled(using: &random)
        let assetRanks = Array(0..<Self.assets).shuffled(using: &random)
        let zipfPortfolio = Zipf(count: portfolios), zipfEmployee = Zipf(count: employees),
            zipfAsset = Zipf(count: Self.assets)
        let uniform = makeQueries(portfolios: portfolios, people: people, admins: admins, owned: owned, names: names,
                                  random: &random,
                                  portfolio: { Int.random(in: 0..<portfolios, using: &$0) },
                                  employee: { Int.random(in: 0..<employees, using: &$0) },
                                  asset: { Int.random(in: 0..<Self.assets, using: &$0) })
        let skewed = makeQueries(portfolios: portfolios, people: people, admins: admins, owned: owned, names: names,
                                 random: &random,
                                 portfolio: { portfolioRanks[zipfPortfolio.next(using: &$0)] },
                                 employee: { employeeRanks[zipfEmployee.next(using: &$0)] },
                                 asset: { assetRanks[zipfAsset.next(using: &$0)] })
        let tokenQueries = try await makeTokenQueries(portico)
        return Dataset(portico: portico, queries: uniform, zipfQueries: skewed, tokenQueries: tokenQueries,
                       reference: reference, assignments: assignments,
                       residentBeforeAssignments: before, residentAfterAssignments: after,
                       residentPerAuditEvent: flips == 0 ? 0 : Double(afterFlips - after) / Double(flips),
                       assignsPerSecond: Double(assignments) / assignSeconds)
    }

    /// 2^20 queries: 70 % an employee on an asset of its portfolio, 10 % the admin, 20 % the next
    /// portfolio's admin or an employee on one of the first four assets (two shared, two not).
    static func makeQueries(portfolios: Int, people: [[PrincipalID]], admins: [PrincipalID],
                            owned: [[(AssetID, AssetType)]], names: [UInt64: ExternalName],
                            random: inout SplitMix, portfolio: (inout SplitMix) -> Int,
                            employee: (inout SplitMix) -> Int, asset: (inout SplitMix) -> Int) -> [Query] {
        var queries: [Query] = []
        queries.reserveCapacity(1 << 20)
        for _ in 0..<(1 << 20) {
            let index = portfolio(&random)
            let roll = Int.random(in: 0..<100, using: &random)
            let (assetID, type) = owned[index][asset(&random)]
            let task = AssetTask.allCases.randomElement(using: &random)!
            let validTask = TaskLattice.validTasks(for: type).tasks.randomElement(using: &random)!
            func query(_ principal: PrincipalID, _ asset: AssetID, _ task: AssetTask) -> Query {
                Query(principal: principal, asset: asset, task: task, principalName: names[principal.rawValue]!,
                      assetName: names[asset.rawValue]!)
            }
            switch roll {
            case 0..<70: queries.append(query(people[index][employee(&random)], assetID, validTask))
            case 70..<80: queries.append(query(admins[index], assetID, task))
            default:
                // The next portfolio's people on this portfolio's assets: shared (first two) or not.
                let partner = (index + 1) % portfolios
                let principal = roll < 90 ? admins[partner] : people[partner][employee(&random)]
                queries.append(query(principal, owned[index][roll % 4].0, validTask))
            }
        }
        return queries
    }

    /// A portfolio with system users: a regular one assigned MANAGE on 16 ad accounts, holding 64 tokens
    /// (ads_read), each presented for ANALYZE on one of the accounts.
    static func makeTokenQueries(_ portico: Portico) async throws -> [(secret: String, asset: AssetID, task: AssetTask)] {
        let portfolio = PortfolioID(try await portico.execute(.createPortfolio(name: "tokens", tier: .advanced),
                                                              as: .operator).createdID!)
        let app = AppID(try await portico.execute(.createApp(portfolio, name: "app"), as: .operator).createdID!)
        let user = PrincipalID(try await portico.execute(.addSystemUser(portfolio, name: "bot", role: .employee),
                                                         as: .operator).createdID!)
        var assets: [AssetID] = []
        for _ in 0..<16 {
            let asset = AssetID(try await portico.execute(.addAsset(portfolio, type: .adAccount, name: "a"),
                                                          as: .operator).createdID!)
            try await portico.execute(.assign(user, asset, TaskSet(.manage)), as: .operator)
            assets.append(asset)
        }
        var queries: [(secret: String, asset: AssetID, task: AssetTask)] = []
        for index in 0..<64 {
            let result = try await portico.execute(.generateToken(user, app: app, scopes: ScopeSet(.adsRead),
                                                                  expiry: .never), as: .operator)
            queries.append((result.secret!, assets[index % assets.count], .analyze))
        }
        return queries
    }

    /// Resident set size from /proc/self/statm.
    public static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// Zipf ranks in 0..<count with exponent 1: rank r drawn with probability proportional to 1 / (r + 1).
struct Zipf {
    private let cumulative: [Double]

    init(count: Int, exponent: Double = 1.0) {
        var sum = 0.0
        var cumulative: [Double] = []
        cumulative.reserveCapacity(count)
        for rank in 1...count {
            sum += 1 / pow(Double(rank), exponent)
            cumulative.append(sum)
        }
        self.cumulative = cumulative.map { $0 / sum }
    }

    func next(using random: inout SplitMix) -> Int {
        let draw = Double.random(in: 0..<1, using: &random)
        var low = 0, high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] < draw { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// SplitMix64, so the generated set is the same on every run.
public struct SplitMix: RandomNumberGenerator {
    public var state: UInt64

    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
