// IdempotencyMemory (idempotency-memory): resident bytes one idempotency key costs while it is remembered.
// A plain executable: each figure comes from fresh processes, so that one run's heap does not serve the next.
// Run from Benchmarks/ (release):
//   idempotency-memory [N ...]          for each N (default 100000 and 1000000): N changes without keys and N
//                                       with a new key each, on the in-memory store and on a store that keeps
//                                       nothing, each in a fresh process; prints resident bytes per key
//   idempotency-memory run N STORE KEYS (used by the above) one process: STORE memory|discard, KEYS yes|no
// The changes are role flips of one person (they leave the check index as it was), through Portico.execute
// as the operator, one at a time, as the server makes them: what a key adds is the difference between the
// keyed and the unkeyed run, divided by N.
import Foundation
import PorticoCore

/// A store that forgets: what the core's state alone holds, without the log the in-memory store keeps.
final class DiscardingStore: ChangeStore {
    func append(_ changes: [Change]) async throws {}
    func load() async throws -> [Change] { [] }
}

func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

let arguments = Array(CommandLine.arguments.dropFirst())

/// Changes made before the first reading, in both runs alike.
let warmUp = 10_000

if arguments.first == "run", arguments.count == 4, let count = Int(arguments[1]) {
    let keyed = arguments[3] == "yes"
    let store: any ChangeStore = arguments[2] == "memory" ? InMemoryChangeStore() : DiscardingStore()
    // Room for every key (the warm-up's too): the figure is per key held, not what eviction keeps.
    let policy = IdempotencyPolicy(capacity: max(count + warmUp, IdempotencyPolicy.standard.capacity))
    let portico = try await Portico.open(store: store, idempotency: policy)
    let portfolio = PortfolioID(try await portico.execute(.createPortfolio(name: "P", tier: .none), as: .operator)
        .createdID!)
    let person = PrincipalID(try await portico.execute(.addPerson(portfolio, name: "p", role: .employee),
                                                       as: .operator).createdID!)
    // Warm-up (both runs alike): the sequencer, the commit log and the heap reach their steady shape.
    for step in 0..<warmUp {
        try await portico.execute(.setRole(person, step % 2 == 0 ? .admin : .employee), as: .operator,
                                  idempotencyKey: keyed ? "warm-\(step)" : nil)
    }
    let before = residentBytes()
    for step in 0..<count {
        // Keys as a client generates them: 36-character UUID strings.
        try await portico.execute(.setRole(person, step % 2 == 0 ? .admin : .employee), as: .operator,
                                  idempotencyKey: keyed ? UUID().uuidString : nil)
    }
    let grown = residentBytes() - before
    let table = portico.snapshot.state.idempotency.count
    print("\(grown) \(table)")
    exit(0)
}

/// Runs one measuring process; returns its resident growth and the keys its table holds.
func measure(_ count: Int, store: String, keyed: Bool) throws -> (grown: Int, keys: Int) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    process.arguments = ["run", "\(count)", store, keyed ? "yes" : "no"]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    let fields = output.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
    guard process.terminationStatus == 0, fields.count == 2 else {
        throw NSError(domain: "idempotency-memory", code: 1,
                      userInfo: [NSLocalizedDescriptionKey: "run \(count) \(store) failed: \(output)"])
    }
    return (fields[0], fields[1])
}

let counts = arguments.isEmpty ? [100_000, 1_000_000] : arguments.compactMap { Int($0) }
print("""
    [IdempotencyMemory] an entry: \(MemoryLayout<IdempotencyTable.Entry>.stride) bytes inline + a \
    \(MemoryLayout<IdempotencyDigest>.stride)-byte digest, in two hash trees (key -> entry, revision -> key); \
    the table counts keys, not bytes
    | keys | store | RSS growth without keys | with keys | bytes per key | keys held |
    |---|---|---|---|---|---|
    """)
for count in counts {
    for store in ["memory", "discard"] {
        let plain = try measure(count, store: store, keyed: false)
        let keyed = try measure(count, store: store, keyed: true)
        let perKey = Double(keyed.grown - plain.grown) / Double(count)
        print("| \(count) | \(store) | \(plain.grown / 1_000_000) MB | \(keyed.grown / 1_000_000) MB | "
              + "\(String(format: "%.0f", perKey)) | \(keyed.keys - warmUp) (+\(warmUp) warm-up) |")
    }
}
