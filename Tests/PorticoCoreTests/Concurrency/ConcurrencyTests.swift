import PorticoCore
import Synchronization
import Testing

/// A flag the writers raise when they are done, so the readers stop.
final class DoneFlag: Sendable {
    // Mutex makes the Bool safe to share between tasks.
    private let done = Mutex(false)

    var isSet: Bool { done.withLock { $0 } }

    func set() { done.withLock { $0 = true } }
}

@Suite("Concurrent writers and readers")
struct ConcurrencyTests {
    /// What one writer did, in its own order, and the model of its portfolio it kept.
    struct WriterLog: Sendable {
        var revisions: [Revision] = []
        var model = ReferenceModel()
        var people: [UInt64] = []
        var assets: [UInt64] = []
    }

    struct ReaderReport: Sendable {
        var snapshots = 0
        var backwards = 0
        var violations: [String] = []
    }

    @Test(
        "writers on different portfolios, readers throughout: revisions increase, changes whole, the result serial"
    )
    func writersAndReaders() async throws {
        let store = InMemoryChangeStore()
        let portico = try await Portico.open(store: store, clock: ManualClock())
        var created: [UInt64] = []
        for index in 0..<8 {
            created.append(
                try await portico.execute(.createPortfolio(name: "P\(index)", tier: .none), as: .operator)
                    .createdID!)
        }
        let portfolios = created
        let flag = DoneFlag()

        async let readerReports = withTaskGroup(of: ReaderReport.self) { group in
            for _ in 0..<4 { group.addTask { await Self.read(portico, until: flag) } }
            return await group.reduce(into: [ReaderReport]()) { $0.append($1) }
        }
        let logs = try await withThrowingTaskGroup(of: WriterLog.self) { group in
            for (index, portfolio) in portfolios.enumerated() {
                group.addTask { try await Self.write(portico, portfolio: portfolio, seed: UInt64(index + 1)) }
            }
            return try await group.reduce(into: [WriterLog]()) { $0.append($1) }
        }
        flag.set()
        let reports = await readerReports

        // Revisions: each writer's strictly increase, all are distinct, and the store holds 1...N in order.
        for log in logs { #expect(zip(log.revisions, log.revisions.dropFirst()).allSatisfy { $0 < $1 }) }
        let all = logs.flatMap(\.revisions)
        #expect(Set(all).count == all.count)
        let final = portico.snapshot
        #expect(try await store.load().map(\.revision) == Array(1...final.revision))

        // Readers never went backwards nor saw half a change.
        for report in reports {
            #expect(report.snapshots > 0)
            #expect(report.backwards == 0)
            #expect(report.violations.isEmpty, "\(report.violations.prefix(3))")
        }

        // The result equals the serial one: replaying the log one change at a time gives the same state,
        // and every check agrees with each writer's own serial model of its portfolio.
        let replayed = try await Portico.open(store: InMemoryChangeStore(try await store.load()), clock: ManualClock())
        #expect(replayed.snapshot.state == final.state)
        #expect(StateInvariants.violations(in: final.state).isEmpty)
        for log in logs {
            for principal in log.people {
                for asset in log.assets {
                    for task in AssetTask.allCases {
                        let got = final.check(
                            principal: PrincipalID(principal), asset: AssetID(asset), task: task,
                            now: Timestamp(milliseconds: 0)
                        ).reason
                        #expect(got == log.model.check(principal, asset, task))
                    }
                }
            }
        }
    }

    private static func read(_ portico: Portico, until flag: DoneFlag) async -> ReaderReport {
        var report = ReaderReport()
        var last: Revision = 0
        while !flag.isSet {
            let snapshot = portico.snapshot
            report.snapshots += 1
            if snapshot.revision < last { report.backwards += 1 }
            last = snapshot.revision
            report.violations += StateInvariants.violations(in: snapshot.state)
            await Task.yield()
        }
        return report
    }

    /// One writer: random changes on its own portfolio, mirrored in a serial model.
    private static func write(_ portico: Portico, portfolio: UInt64, seed: UInt64) async throws -> WriterLog {
        var random = SeededGenerator(state: seed)
        var log = WriterLog()
        log.model.status[portfolio] = .active
        for _ in 0..<150 {
            let roll = Int.random(in: 0..<100, using: &random)
            let command: Command
            switch roll {
            case 0..<15:
                command = .addPerson(PortfolioID(portfolio), name: "p", role: roll < 2 ? .admin : .employee)
            case 15..<30:
                command = .addAsset(
                    PortfolioID(portfolio), type: AssetType.allCases.randomElement(using: &random)!,
                    name: "a")
            case 30..<75 where !log.people.isEmpty && !log.assets.isEmpty:
                let (principal, asset) = (
                    log.people.randomElement(using: &random)!, log.assets.randomElement(using: &random)!
                )
                let type = log.model.assets[asset]!.type
                let task = ReferenceModel.valid[type]!.randomElement(using: &random)!
                command = .assign(PrincipalID(principal), AssetID(asset), TaskSet(task))
                _ = log.model.assign(principal, asset, [task])
            case 75..<85 where !log.assets.isEmpty:
                let asset = log.assets.remove(at: Int.random(in: 0..<log.assets.count, using: &random))
                command = .removeAsset(AssetID(asset))
                _ = log.model.removeAsset(asset)
            case 85..<92 where !log.people.isEmpty:
                let principal = log.people.remove(at: Int.random(in: 0..<log.people.count, using: &random))
                command = .removePrincipal(PrincipalID(principal))
                _ = log.model.removePrincipal(principal)
            default:
                command = .addPerson(PortfolioID(portfolio), name: "q", role: .employee)
            }
            let result = try await portico.execute(command, as: .operator)
            log.revisions.append(result.revision)
            if let id = result.createdID {
                switch command {
                case .addPerson(_, _, let role, _):
                    log.people.append(id)
                    log.model.principals[id] = .init(portfolio: portfolio, admin: role == .admin)
                case .addAsset(_, let type, _, _):
                    log.assets.append(id)
                    log.model.assets[id] = (portfolio, type)
                default: break
                }
            }
        }
        return log
    }
}
