// StoreWrites (store-bench): the durable store's figures, each beside the in-memory store where that
// compares. A plain executable: wall-clock rates and sizes of one run, not per-iteration distributions.
// Run from Benchmarks/ (release):
//   store-bench [DIR]              writes/s (1 client; 64 clients over many portfolios; 64 into one),
//                                  then at 1M assignments: size per change, checkpoint time and size,
//                                  checks/s while a checkpoint is written vs. not, start-up with and
//                                  without a checkpoint (each in a fresh process, with its memory)
//   store-bench large [DIR]        the same start-up figures at 10M assignments
//   store-bench writes [DIR]       the writes/s figures only
//   store-bench startup DIR N      (used by the above) open DIR, print time and memory per assignment
// PORTICO_BENCH_KEEP=1 keeps the data directory made at 1M (or 10M) assignments, for profiling start-up.
// DIR: where data directories are made (default: the temporary directory).
import Dispatch
import Foundation
import PorticoCore
import PorticoStore
import Synchronization

let arguments = Array(CommandLine.arguments.dropFirst())

if arguments.first == "startup" {
    // A fresh process: its memory growth is the loaded state's.
    let directory = arguments[1]
    let assignments = Int(arguments[2]) ?? 1
    let before = residentBytes()
    let start = ContinuousClock.now
    let store = try SQLiteStore(directory: directory) { line("[StoreWrites]   \($0)") }
    let portico = try await Portico.open(store: store)
    let elapsed = seconds(ContinuousClock.now - start)
    let grown = residentBytes() - before
    line(String(format: "[StoreWrites] start-up %.2f s to revision %llu, memory +%.0f MB (%.0f bytes per assignment)",
                elapsed, portico.snapshot.revision, Double(grown) / 1e6, Double(grown) / Double(assignments)))
    await store.close()
    exit(0)
}

let large = arguments.first == "large"
let writesOnly = arguments.first == "writes"
let root = (large || writesOnly ? arguments.dropFirst().first : arguments.first) ?? NSTemporaryDirectory()
func freshDirectory(_ name: String) -> String {
    let path = (root as NSString).appendingPathComponent("portico-store-bench-\(name)-\(getpid())")
    try? FileManager.default.removeItem(atPath: path)
    return path
}

/// Writes per second: `clients` concurrent clients, `each` assigns, in their own portfolios or all in one.
/// - Returns: writes per second, transactions, and CPU microseconds per write (the process's, all threads).
func writeRate(_ store: any ChangeStore, clients: Int, each: Int, onePortfolio: Bool) async throws -> (Double, Int, Double) {
    let counting = Counting(store)
    let portico = try await Portico.open(store: counting)
    let world = try await populate(portico, portfolios: onePortfolio ? 1 : clients, people: onePortfolio ? 64 : 10,
                                   assets: 10)
    let before = counting.transactions
    let cpu = cpuSeconds()
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for client in 0..<clients {
            let (_, people, assets) = world[onePortfolio ? 0 : client]
            group.addTask {
                for index in 0..<each {
                    let person = onePortfolio ? people[client] : people[index % people.count]
                    try await portico.execute(.assign(person, assets[(index / people.count) % assets.count],
                                                      TaskSet(tasks[index % tasks.count])), as: .operator)
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = seconds(ContinuousClock.now - start)
    return (Double(clients * each) / elapsed, counting.transactions - before,
            (cpuSeconds() - cpu) * 1e6 / Double(clients * each))
}

/// Checks per second on two threads against the published snapshot for `duration`.
func checkRate(_ portico: Portico, duration: Duration, ids: (principals: [PrincipalID], assets: [AssetID])) -> Double {
    let count = Atomic<Int>(0)
    let deadline = ContinuousClock.now + duration
    DispatchQueue.concurrentPerform(iterations: 2) { thread in
        var done = 0
        var index = thread * 7919
        while ContinuousClock.now < deadline {
            for _ in 0..<1000 {
                index &+= 1
                let decision = portico.snapshot.check(principal: ids.principals[index % ids.principals.count],
                                                      asset: ids.assets[(index / 7) % ids.assets.count], task: .analyze,
                                                      now: Timestamp(milliseconds: 0))
                done += decision.allowed ? 1 : 1
            }
        }
        count.add(done, ordering: .relaxed)
    }
    return Double(count.load(ordering: .relaxed)) / seconds(duration)
}

/// Runs `startup` in a fresh process of this binary and relays what it prints.
func startupInChild(_ directory: String, assignments: Int) throws {
    let child = Process()
    child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    child.arguments = ["startup", directory, String(assignments)]
    try child.run()
    child.waitUntilExit()
}

line("[StoreWrites] data directories under \(root)")
if !large {
    for (clients, each, one) in [(1, 2000, false), (64, 300, false), (64, 300, true)] {
        let directory = freshDirectory("writes\(clients)\(one)")
        let sqlite = try SQLiteStore(directory: directory)
        let (durable, transactions, cpu) = try await writeRate(sqlite, clients: clients, each: each, onePortfolio: one)
        await sqlite.close()
        try? FileManager.default.removeItem(atPath: directory)
        let (memory, _, memoryCPU) = try await writeRate(InMemoryChangeStore(), clients: clients, each: each,
                                                         onePortfolio: one)
        line(String(format: "[StoreWrites] %d client(s) x %d writes%@: sqlite %.0f writes/s (%.1f changes per "
                    + "transaction, %.1f µs CPU per write), memory %.0f writes/s (%.1f µs CPU per write)", clients,
                    each, one ? " into one portfolio" : "", durable, Double(clients * each) / Double(max(transactions, 1)),
                    cpu, memory, memoryCPU))
    }
}
if writesOnly { exit(0) }

// The log at 1M (or 10M) assignments, written to a data directory as a server would hold it.
let portfolios = large ? 10_000 : 1000
var start = ContinuousClock.now
let (changes, assignments) = try await assignmentLog(portfolios: portfolios)
let directory = freshDirectory(large ? "10m" : "1m")
let store = try SQLiteStore(directory: directory)
var written = 0
while written < changes.count {
    let batch = Array(changes[written..<min(written + 50_000, changes.count)])
    try await store.append(batch)
    written += batch.count
}
line(String(format: "[StoreWrites] %d assignments (%d changes) generated and stored in %.1f s", assignments,
            changes.count, seconds(ContinuousClock.now - start)))
let logBytes = size(of: directory, prefix: SQLiteStore.fileName)
line(String(format: "[StoreWrites] database %.1f MB (%.1f bytes per change)", Double(logBytes) / 1e6,
            Double(logBytes) / Double(changes.count)))

start = ContinuousClock.now
let portico = try await Portico.open(store: store)
line(String(format: "[StoreWrites] replay of the whole log in this process: %.1f s", seconds(ContinuousClock.now - start)))
start = ContinuousClock.now
let (checkpoint, checkpointBytes) = try await store.writeCheckpoint(portico.snapshot.state, now: portico.clock.now())
line(String(format: "[StoreWrites] checkpoint written in %.2f s: %.1f MB (%.1f bytes per assignment)",
            seconds(ContinuousClock.now - start), Double(checkpointBytes) / 1e6,
            Double(checkpointBytes) / Double(assignments)))

if !large {
    let state = portico.snapshot.state
    let ids = (Array(state.principals.keys.prefix(50_000)), Array(state.assets.keys.prefix(20_000)))
    let quiet = checkRate(portico, duration: .seconds(3), ids: ids)
    let writing = Task.detached {
        var count = 0
        while !Task.isCancelled {
            _ = try? await store.writeCheckpoint(state, now: Timestamp(milliseconds: 0))
            count += 1
        }
        return count
    }
    let busy = checkRate(portico, duration: .seconds(3), ids: ids)
    writing.cancel()
    let checkpoints = await writing.value
    line(String(format: "[StoreWrites] checks/s on 2 threads: %.0f without, %.0f while checkpoints are written "
                + "(%d in 3 s): %.2f", quiet, busy, checkpoints, busy / quiet))
}
await store.close()

line("[StoreWrites] start-up with the checkpoint (a fresh process):")
try startupInChild(directory, assignments: assignments)
try FileManager.default.moveItem(atPath: checkpoint, toPath: checkpoint + ".aside")
line("[StoreWrites] start-up from the log alone (a fresh process):")
try startupInChild(directory, assignments: assignments)
if ProcessInfo.processInfo.environment["PORTICO_BENCH_KEEP"] != nil {
    try FileManager.default.moveItem(atPath: checkpoint + ".aside", toPath: checkpoint)
    line("[StoreWrites] kept \(directory)")
} else {
    try? FileManager.default.removeItem(atPath: directory)
}
