// CheckCost (check-cost): instructions per check, by ids and by external ids, for callgrind, whose counts
// do not move with the machine's load (the CheckEngine suite's times do). A small set built through
// Portico.execute (portfolios of 50 employees, each assigned to all 20 assets of its portfolio, every
// person and asset with an external id), then 65,536 uniformly drawn checks, by ids and then by external ids.
// valgrind 3.19 cannot read this toolchain's DWARF 5, so count a copy stripped of it (Benchmarks/README.md):
//   LD_LIBRARY_PATH=../.build-bench/release valgrind --tool=callgrind \
//     --toggle-collect='$s11PorticoCore14AccessSnapshotC5check9principal5asset4task3now*' /tmp/check-cost 20
// Both public checks match the pattern; callgrind_annotate --inclusive=yes gives each one's count, and a
// count divided by 65,536 is one check.
import Dispatch
import PorticoCore

final class DiscardingStore: ChangeStore {
    func append(_ changes: [Change]) async throws {}
    func load() async throws -> [Change] { [] }
}

struct Query {
    let principal: PrincipalID
    let asset: AssetID
    let task: AssetTask
    let principalName: ExternalName
    let assetName: ExternalName
}

/// xorshift64*, seeded, so that every run draws the same set and the same checks (counts compare only so).
struct Xorshift: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}

let checkTime = Timestamp(milliseconds: 1_750_000_000_000)

@inline(never)
func checkByIDs(_ snapshot: AccessSnapshot, _ queries: [Query]) -> Int {
    var allowed = 0
    for query in queries
    where snapshot.check(principal: query.principal, asset: query.asset, task: query.task, now: checkTime).allowed {
        allowed &+= 1
    }
    return allowed
}

@inline(never)
func checkByExternalIDs(_ snapshot: AccessSnapshot, _ queries: [Query]) -> Int {
    var allowed = 0
    for query in queries where snapshot.check(principal: query.principalName, asset: query.assetName,
                                              task: query.task, now: checkTime).allowed {
        allowed &+= 1
    }
    return allowed
}

/// Builds the set and runs the checks. Called from a synchronous main that waits on a semaphore:
/// valgrind 3.19 crashes in the signal thread libdispatch makes of an async main's thread. Detached: top-level
/// code is on the main actor, whose thread waits.
func run() async throws {
    let portfolios = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 20
    var random = Xorshift(state: 42)
    let portico = try await Portico.open(store: DiscardingStore())
    var people: [[(PrincipalID, ExternalName)]] = []
    var owned: [[(AssetID, AssetType, ExternalName)]] = []
    for index in 0..<portfolios {
        let portfolio = PortfolioID(try await portico.execute(.createPortfolio(name: "P\(index)", tier: .none),
                                                              as: .operator).createdID!)
        var members: [(PrincipalID, ExternalName)] = []
        for member in 0..<50 {
            let external = "u\(index).\(member)"
            let id = try await portico.execute(.addPerson(portfolio, name: "e", role: .employee, externalID: external),
                                               as: .operator).createdID!
            members.append((PrincipalID(id), ExternalName(.person, in: portfolio.rawValue, external)))
        }
        var assets: [(AssetID, AssetType, ExternalName)] = []
        for _ in 0..<20 {
            let type = AssetType.allCases.randomElement(using: &random)!
            let external = "act_\(1_000_000_000 + portico.snapshot.state.nextID)"
            let id = try await portico.execute(.addAsset(portfolio, type: type, name: "a", externalID: external),
                                               as: .operator).createdID!
            assets.append((AssetID(id), type, ExternalName(.asset, in: portfolio.rawValue, external)))
        }
        for (principal, _) in members {
            for (asset, type, _) in assets {
                let task = TaskLattice.validTasks(for: type).tasks.randomElement(using: &random)!
                try await portico.execute(.assign(principal, asset, TaskSet(task)), as: .operator)
            }
        }
        people.append(members)
        owned.append(assets)
    }
    var queries: [Query] = []
    for _ in 0..<65_536 {
        let index = Int.random(in: 0..<portfolios, using: &random)
        let (principal, principalName) = people[index].randomElement(using: &random)!
        let (asset, type, assetName) = owned[index].randomElement(using: &random)!
        let task = TaskLattice.validTasks(for: type).tasks.randomElement(using: &random)!
        queries.append(Query(principal: principal, asset: asset, task: task, principalName: principalName,
                             assetName: assetName))
    }
    let snapshot = portico.snapshot
    print("[CheckCost] \(queries.count) checks: by ids \(checkByIDs(snapshot, queries)) allowed, "
          + "by external ids \(checkByExternalIDs(snapshot, queries)) allowed")
}

let done = DispatchSemaphore(value: 0)
Task.detached {
    do { try await run() } catch { print("[CheckCost] \(error)") }
    done.signal()
}
done.wait()
