import Foundation
import PorticoClient
import PorticoStore
import PorticoTestSupport
import PorticoWire
import Synchronization
import Testing

@testable import PorticoCore

/// The server as a separate process, killed with SIGKILL while a client streams writes at it.
@Suite("Crash safety")
struct CrashTests {
    /// What the client knows of one write.
    struct Sent: Sendable {
        let command: Command
        /// The revision the server acknowledged; nil when the call failed (the kill came first).
        let revision: Revision?
    }

    /// Every write of a round, shared by its streams; the Mutex makes it safe to share.
    final class Record: Sendable {
        private let sent = Mutex<[Sent]>([])
        func add(_ item: Sent) { sent.withLock { $0.append(item) } }
        var all: [Sent] { sent.withLock { $0 } }
    }

    static let tasks: [(PorticoWire.AssetTask, PorticoCore.AssetTask)] = [
        (.manage, .manage), (.advertise, .advertise), (.analyze, .analyze),
    ]

    @Test("every acknowledged change survives kill -9, nothing is half there, revisions continue")
    func killNine() async throws {
        let directory = TemporaryDirectory("crash")
        let key = "pok_" + (UUID().uuidString + UUID().uuidString).replacingOccurrences(of: "-", with: "")
        var generator = SystemRandomNumberGenerator()
        let streams = 4
        // What the log must hold, in revision order: the client's own record, verified each round.
        var history: [Command] = []

        // Set-up: a portfolio with an app, one system user per stream, two ad accounts.
        let path = directory.path
        var server = try await offThePool { try ServerProcess(dataDirectory: path, operatorKey: key) }
        var client = Self.client(port: server.port, key: key)
        let portfolio: UInt64
        do {
            portfolio = try await client.createPortfolio(.init(name: "crash", systemUserTier: .advanced)).portfolio!.id
        } catch {
            Issue.record("\(error); \(server.status)")
            throw error
        }
        history.append(.createPortfolio(name: "crash", tier: .advanced))
        _ = try await client.addApp(.init(portfolioID: portfolio, name: "app"))
        history.append(.createApp(PortfolioID(portfolio), name: "app"))
        var users: [UInt64] = []
        for index in 0..<streams {
            users.append(
                try await client.createSystemUser(.init(portfolioID: portfolio, name: "w\(index)", role: .employee))
                    .systemUser!.id)
            history.append(.addSystemUser(PortfolioID(portfolio), name: "w\(index)", role: .employee))
        }
        var assets: [UInt64] = []
        for index in 0..<2 {
            assets.append(
                try await client.addAsset(.init(portfolioID: portfolio, type: .adAccount, name: "a\(index)")).asset!.id)
            history.append(.addAsset(PortfolioID(portfolio), type: .adAccount, name: "a\(index)"))
        }
        let setUp = history.count

        for round in 1...5 {
            // Stream: each stream assigns its own user in a loop until the server dies under it.
            let sent = Record()
            let killAfter = Duration.milliseconds(Int.random(in: 0...550, using: &generator))
            let (users, assets, current, streamCount) = (users, assets, client, streams)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for stream in 0..<streamCount {
                    group.addTask {
                        var index = 0
                        while true {
                            let asset = assets[index % assets.count]
                            let (wire, core) = Self.tasks[(index + stream) % Self.tasks.count]
                            let command = Command.assign(PrincipalID(users[stream]), AssetID(asset), TaskSet(core))
                            do {
                                let response = try await current.assignTasks(
                                    .init(
                                        principal: Principal(kind: .systemUser, id: users[stream]), assetID: asset,
                                        tasks: [wire]))
                                sent.add(Sent(command: command, revision: response.revision))
                            } catch {
                                sent.add(Sent(command: command, revision: nil))
                                return
                            }
                            index += 1
                        }
                    }
                }
                // The kill comes a random while after the first answer (bounded wait on that condition:
                // a loaded machine may take longer than the random delay to answer at all).
                for _ in 0..<3000 where !sent.all.contains(where: { $0.revision != nil }) {
                    try await Task.sleep(for: .milliseconds(10))
                }
                try await Task.sleep(for: killAfter)
                server.kill9()
                try await group.waitForAll()
            }
            await client.close()
            let record = sent.all
            let acknowledged = record.filter { $0.revision != nil }
            let unacknowledged = record.filter { $0.revision == nil }
            #expect(!acknowledged.isEmpty, "round \(round): the client got answers before the kill")

            // The file, read directly: revisions dense from 1 (load checks), every acknowledged change at
            // its revision, and beyond what was known only changes that were in flight, each whole.
            let store = try SQLiteStore(directory: directory.path)
            let log = try await store.load()
            await store.close()
            #expect(log.map(\.revision) == Array(1...Revision(log.count)))
            #expect(Array(log.prefix(history.count).map(\.command)) == history, "round \(round): earlier rounds kept")
            for item in acknowledged {
                let revision = Int(item.revision!)
                #expect(
                    revision <= log.count && log[revision - 1].command == item.command,
                    "round \(round): acknowledged revision \(revision) lost or changed")
            }
            let known = Set(acknowledged.map { Int($0.revision!) })
            var inFlight = unacknowledged.map(\.command)
            for (offset, change) in log.enumerated().dropFirst(history.count) where !known.contains(offset + 1) {
                let match = inFlight.firstIndex(of: change.command)
                #expect(match != nil, "round \(round): revision \(offset + 1) was never sent")
                if let match { inFlight.remove(at: match) }
            }
            history = log.map(\.command)

            // The reference: the history run through a fresh in-memory core, command by command.
            let reference = try await Portico.open()
            for command in history { try await reference.execute(command, as: .operator) }

            // Restart on the same directory: the same answers, and the next revision follows the log.
            server = try await offThePool { try ServerProcess(dataDirectory: path, operatorKey: key) }
            client = Self.client(port: server.port, key: key)
            for user in users {
                for asset in assets {
                    for (wire, core) in Self.tasks {
                        let answer = try await client.checkPermission(
                            .init(assetID: asset, task: wire, subject: .systemUserID(user)))
                        let expected = try reference.check(
                            as: .operator, principal: PrincipalID(user), asset: AssetID(asset), task: core)
                        #expect(answer.allowed == expected.allowed, "round \(round): check \(user) \(asset) \(core)")
                        #expect(answer.revision == Revision(log.count))
                    }
                }
            }
            let next = try await client.assignTasks(
                .init(
                    principal: Principal(kind: .systemUser, id: users[0]),
                    assetID: assets[0], tasks: [.manage]))
            #expect(next.revision == Revision(log.count + 1), "round \(round): revisions continue")
            history.append(.assign(PrincipalID(users[0]), AssetID(assets[0]), TaskSet(.manage)))
        }
        await client.close()
        server.terminate()
        #expect(history.count > setUp + 5)
    }

    static func client(port: Int, key: String) -> PorticoClient {
        PorticoClient(
            configuration: ClientConfiguration(
                host: "127.0.0.1", port: port, credential: key, connections: 2,
                defaultTimeout: .seconds(20)))
    }
}
