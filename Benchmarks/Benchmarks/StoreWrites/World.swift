import Foundation
import PorticoCore
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
    func recover() async throws -> Recovery { try await inner.recover() }
    var transactions: Int { count.withLock { $0 } }
}

func line(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// The process's resident memory, from /proc/self/status (VmRSS), in bytes.
func residentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let entry = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kilobytes = Int(entry.split(separator: " ").dropFirst().first ?? "")
    else { return 0 }
    return kilobytes * 1024
}

/// CPU time this process has used (user and system, every thread), in seconds.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

let tasks: [AssetTask] = [.manage, .advertise, .analyze]

/// Portfolios with `people` employees and `assets` ad accounts each; returns their ids.
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

/// The log of `portfolios` × 50 employees × 20 ad accounts, every employee assigned every account
/// (the CheckEngine shape: 1000 portfolios give 1,000,000 assignments), and its final state.
/// The assignments are made as changes directly, then replayed once: faster than through `execute`.
func assignmentLog(portfolios: Int) async throws -> (changes: [Change], assignments: Int) {
    let memory = InMemoryChangeStore()
    let builder = try await Portico.open(store: memory)
    let world = try await populate(builder, portfolios: portfolios, people: 50, assets: 20)
    var changes = memory.stored
    changes.reserveCapacity(changes.count + portfolios * 1000)
    let time = Timestamp(milliseconds: 1_800_000_000_000)
    for (_, people, assets) in world {
        for (p, person) in people.enumerated() {
            for (a, asset) in assets.enumerated() {
                changes.append(Change(revision: Revision(changes.count + 1), time: time, caller: .operator,
                                      command: .assign(person, asset, TaskSet(tasks[(p + a) % tasks.count])),
                                      secretDigests: []))
            }
        }
    }
    return (changes, portfolios * 1000)
}

/// The size of the files in `directory` whose names start with `prefix`.
func size(of directory: String, prefix: String) -> Int {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix(prefix) }.reduce(0) {
        let attributes = try? FileManager.default.attributesOfItem(atPath: (directory as NSString).appendingPathComponent($1))
        return $0 + ((attributes?[.size] as? Int) ?? 0)
    }
}
