import Foundation
import PorticoCore

/// A store that forgets: the benchmark measures the in-memory index, not a log kept beside it.
final class DiscardingStore: ChangeStore {
    func append(_ changes: [Change]) async throws {}
    func load() async throws -> [Change] { [] }
}

/// The generated portfolio set: `portfolios` portfolios, each with `employees` employees assigned to
/// every one of its `assets` assets (random tasks), an admin person, and two assets shared with the
/// next portfolio. 1000 x 50 x 20 = one million assignments.
struct Dataset {
    struct Query {
        let principal: PrincipalID
        let asset: AssetID
        let task: AssetTask
    }

    static let portfolios = Int(ProcessInfo.processInfo.environment["PORTICO_BENCH_PORTFOLIOS"] ?? "") ?? 1000
    static let employees = 50
    static let assets = 20

    let portico: Portico
    let queries: [Query]
    let assignments: Int
    /// Resident memory, in bytes, before and after the assignments were added.
    let residentBeforeAssignments: Int
    let residentAfterAssignments: Int
    /// Resident bytes per change that adds nothing to the index (its audit event only).
    let residentPerAuditEvent: Double

    static func build() async throws -> Dataset {
        var random = SplitMix(state: 42)
        let portico = try await Portico.open(store: DiscardingStore())
        var people: [[PrincipalID]] = []
        var admins: [PrincipalID] = []
        var owned: [[(AssetID, AssetType)]] = []
        var portfolioIDs: [PortfolioID] = []
        for index in 0..<portfolios {
            let portfolio = PortfolioID(try await portico.execute(.createPortfolio(name: "P\(index)", tier: .none),
                                                                  as: .operator).createdID!)
            portfolioIDs.append(portfolio)
            admins.append(PrincipalID(try await portico.execute(.addPerson(portfolio, name: "admin", role: .admin),
                                                                as: .operator).createdID!))
            var members: [PrincipalID] = []
            for _ in 0..<employees {
                members.append(PrincipalID(try await portico.execute(.addPerson(portfolio, name: "e", role: .employee),
                                                                     as: .operator).createdID!))
            }
            people.append(members)
            var assets: [(AssetID, AssetType)] = []
            for _ in 0..<Self.assets {
                let type = AssetType.allCases.randomElement(using: &random)!
                assets.append((AssetID(try await portico.execute(.addAsset(portfolio, type: type, name: "a"),
                                                                 as: .operator).createdID!), type))
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
        let before = residentBytes()
        var assignments = 0
        for index in 0..<portfolios {
            for principal in people[index] {
                for (asset, type) in owned[index] {
                    let task = TaskLattice.validTasks(for: type).tasks.randomElement(using: &random)!
                    try await portico.execute(.assign(principal, asset, TaskSet(task)), as: .operator)
                    assignments += 1
                }
            }
        }
        let after = residentBytes()
        // Changes that leave the index as it was: what one audit event costs.
        let flips = 100_000
        for step in 0..<flips {
            try await portico.execute(.setRole(admins[step % portfolios], step % 2 == 0 ? .employee : .admin),
                                      as: .operator)
        }
        let afterFlips = residentBytes()

        var queries: [Query] = []
        queries.reserveCapacity(1 << 20)
        for _ in 0..<(1 << 20) {
            let index = Int.random(in: 0..<portfolios, using: &random)
            let roll = Int.random(in: 0..<100, using: &random)
            let (asset, type) = owned[index].randomElement(using: &random)!
            let task = AssetTask.allCases.randomElement(using: &random)!
            let validTask = TaskLattice.validTasks(for: type).tasks.randomElement(using: &random)!
            switch roll {
            case 0..<70: queries.append(Query(principal: people[index].randomElement(using: &random)!, asset: asset,
                                              task: validTask))
            case 70..<80: queries.append(Query(principal: admins[index], asset: asset, task: task))
            default:
                // The next portfolio's people on this portfolio's assets: shared (first two) or not.
                let partner = (index + 1) % portfolios
                let principal = roll < 90 ? admins[partner] : people[partner].randomElement(using: &random)!
                queries.append(Query(principal: principal, asset: owned[index][roll % 4].0, task: validTask))
            }
        }
        return Dataset(portico: portico, queries: queries, assignments: assignments,
                       residentBeforeAssignments: before, residentAfterAssignments: after,
                       residentPerAuditEvent: Double(afterFlips - after) / Double(flips))
    }

    /// Resident set size from /proc/self/statm.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// SplitMix64, so the generated set is the same on every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
