// StoreWrites: durable writes per second (one client, many concurrent clients: group commit), and
// start-up time and database size for one million assignments, each beside the in-memory store in the
// same run. A plain executable: the figures are wall-clock rates and sizes of one run, not the
// per-iteration distributions the benchmark harness measures. Run from Benchmarks/:
//   swift run -c release store-bench [directory on the disk to measure, default: the temporary directory]
import Foundation
import PorticoCore
import PorticoStore
import Synchronization

/// Counts the transactions a store commits, to show how many changes each carried.
final class Counting: ChangeStore {
    let inner: any ChangeStore
    private let count = Mutex(0)
    init(_ inner: any ChangeStore) { self.inner = inner }
    func append(_ changes: [Change]) async throws {
        try await inner.append(changes)
        count.withLock { $0 += 1 }
    }
    func load() async throws -> [Change] { try await inner.load() }
    var transactions: Int { count.withLock { $0 } }
}

let root = CommandLine.arguments.dropFirst().first ?? NSTemporaryDirectory()
func freshDirectory(_ name: String) -> String {
    let path = (root as NSString).appendingPathComponent("portico-store-bench-\(name)-\(getpid())")
    try? FileManager.default.removeItem(atPath: path)
    return path
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Portfolios with an app and `assets` ad accounts and `people` employees each; returns their ids.
func populate(_ portico: Portico, portfolios: Int, people: Int, assets: Int) async throws
    -> [(PortfolioID, [PrincipalID], [AssetID])] {
    var result: [(PortfolioID, [PrincipalID], [AssetID])] = []
    for index in 0..<portfolios {
        let portfolio = PortfolioID(try await portico.execute(.createPortfolio(name: "P\(index)", tier: .none),
                                                              as: .operator).createdID!)
        var members: [PrincipalID] = []
        for _ in 0..<people {
            members.append(PrincipalID(try await portico.execute(.addPerson(portfolio, name: "e", role: .employee),
                                                                 as: .operator).createdID!))
        }
        var owned: [AssetID] = []
        for _ in 0..<assets {
            owned.append(AssetID(try await portico.execute(.addAsset(portfolio, type: .adAccount, name: "a"),
                                                           as: .operator).createdID!))
        }
        result.append((portfolio, members, owned))
    }
    return result
}

let tasks: [AssetTask] = [.manage, .advertise, .analyze]

/// Writes per second: `clients` concurrent clients, each assigning in its own portfolio, `each` writes.
func writeRate(_ store: any ChangeStore, clients: Int, each: Int) async throws -> (Double, Int) {
    let counting = Counting(store)
    let portico = try await Portico.open(store: counting)
    let world = try await populate(portico, portfolios: clients, people: 10, assets: 10)
    let before = counting.transactions
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for (_, people, assets) in world {
            group.addTask {
                for index in 0..<each {
                    try await portico.execute(.assign(people[index % people.count], assets[(index / people.count) % assets.count],
                                                      TaskSet(tasks[index % tasks.count])), as: .operator)
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = seconds(ContinuousClock.now - start)
    return (Double(clients * each) / elapsed, counting.transactions - before)
}

func line(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

line("[StoreWrites] data directory under \(root)")
for (clients, each) in [(1, 2000), (64, 300)] {
    let directory = freshDirectory("writes\(clients)")
    let sqlite = try SQLiteStore(directory: directory)
    let (durable, transactions) = try await writeRate(sqlite, clients: clients, each: each)
    await sqlite.close()
    try? FileManager.default.removeItem(atPath: directory)
    let (memory, _) = try await writeRate(InMemoryChangeStore(), clients: clients, each: each)
    line(String(format: "[StoreWrites] %d client(s) x %d writes: sqlite %.0f writes/s (%.1f changes per transaction), memory %.0f writes/s",
                clients, each, durable, Double(clients * each) / Double(max(transactions, 1)), memory))
}

// One million assignments: 1000 portfolios x 50 employees x 20 ad accounts, generated in memory.
let portfolios = Int(ProcessInfo.processInfo.environment["PORTICO_BENCH_PORTFOLIOS"] ?? "") ?? 1000
let generator = InMemoryChangeStore()
let builder = try await Portico.open(store: generator)
let world = try await populate(builder, portfolios: portfolios, people: 50, assets: 20)
var assignments = 0
for (_, people, assets) in world {
    for (p, person) in people.enumerated() {
        for (a, asset) in assets.enumerated() {
            try await builder.execute(.assign(person, asset, TaskSet(tasks[(p + a) % tasks.count])), as: .operator)
            assignments += 1
        }
    }
}
let changes = generator.stored
let directory = freshDirectory("million")
let store = try SQLiteStore(directory: directory)
var written = 0
while written < changes.count {
    let batch = Array(changes[written..<min(written + 10_000, changes.count)])
    try await store.append(batch)
    written += batch.count
}
await store.close()
let size = try FileManager.default.contentsOfDirectory(atPath: directory).reduce(0) { total, name in
    let attributes = try FileManager.default.attributesOfItem(atPath: (directory as NSString).appendingPathComponent(name))
    return total + ((attributes[.size] as? Int) ?? 0)
}

var start = ContinuousClock.now
let reopened = try SQLiteStore(directory: directory)
let loaded = try await reopened.load()
let loadTime = seconds(ContinuousClock.now - start)
let fromDisk = try await Portico.open(store: InMemoryChangeStore(loaded))
let sqliteStartup = seconds(ContinuousClock.now - start)
await reopened.close()
start = ContinuousClock.now
let fromMemory = try await Portico.open(store: InMemoryChangeStore(changes))
let memoryStartup = seconds(ContinuousClock.now - start)
precondition(fromDisk.snapshot.state == fromMemory.snapshot.state)
try? FileManager.default.removeItem(atPath: directory)
line(String(format: "[StoreWrites] %d assignments (%d changes): database %.1f MB (%.0f bytes per change)",
            assignments, changes.count, Double(size) / 1e6, Double(size) / Double(changes.count)))
line(String(format: "[StoreWrites] start-up: sqlite %.1f s (read and decode %.1f s, replay %.1f s); memory store (replay only) %.1f s",
            sqliteStartup, loadTime, sqliteStartup - loadTime, memoryStartup))
