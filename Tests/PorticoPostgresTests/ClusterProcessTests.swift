import Foundation
import PorticoClient
import PorticoCore
import PorticoPostgres
import PorticoTestSupport
import PorticoWire
import Synchronization
import Testing

/// Three real `portico serve --store postgres` processes on one PostgreSQL of the test's own, written
/// to on all three at once, while one node is killed with SIGKILL and started again and PostgreSQL
/// itself is restarted. At the end every acknowledged write is in the log once at the revision it was
/// acknowledged with, no write is there twice, the revisions are dense, and every node answers the
/// same checks the same at the final revision.
@Suite("Three portico processes on one PostgreSQL, with kill -9 and a PostgreSQL restart", .serialized)
struct ClusterProcessTests {
    struct Acknowledged: Sendable {
        let name: String
        let revision: UInt64
        let asset: UInt64
    }

    /// The nodes' clients, by node; a restarted node's client replaces its predecessor's.
    final class Clients: Sendable {
        private let clients: Mutex<[PorticoClient]>
        init(_ clients: [PorticoClient]) { self.clients = Mutex(clients) }
        subscript(node: Int) -> PorticoClient {
            get { clients.withLock { $0[node] } }
            set { clients.withLock { $0[node] = newValue } }
        }
    }

    /// What the writers saw: the writes acknowledged, and how many calls failed.
    final class Tally: Sendable {
        let acknowledged = Mutex<[Acknowledged]>([])
        let failures = Mutex(0)
        var count: Int { acknowledged.withLock { $0.count } }
    }

    static func start(_ directory: String, _ url: String, key: String) throws -> ServerProcess {
        try ServerProcess(
            dataDirectory: directory, operatorKey: key,
            extra: ["--store", "postgres", "--postgres-url", url, "--poll-interval", "100"])
    }

    static func client(_ node: ServerProcess, key: String) -> PorticoClient {
        PorticoClient(
            configuration: ClientConfiguration(
                host: "127.0.0.1", port: node.port, credential: key, defaultTimeout: .seconds(15)))
    }

    @Test("writers on every node, one node killed -9 and restarted, PostgreSQL restarted: nothing lost or doubled")
    func chaos() async throws {
        let postgres = try await offThePool { try PostgresServer.start(fsync: true) }
        defer { try? postgres.stop(mode: "immediate") }
        let url = try await offThePool { try postgres.createDatabase("cluster") }
        // An operator key's shape: pok_ and 43 characters of base64url.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let key = "pok_" + String((0..<43).map { _ in alphabet.randomElement()! })
        let directories = (0..<3).map { TemporaryDirectory("pg-node\($0)") }
        let paths = directories.map(\.path)
        var nodes = try await offThePool { try paths.map { try Self.start($0, url, key: key) } }
        defer { for node in nodes { node.kill9() } }
        let clients = Clients(nodes.map { Self.client($0, key: key) })

        let fixture = try await ServerFixture.build(clients[0])
        let asAdmin = CallOptions(credential: fixture.adminToken)
        let tally = Tally()
        let writesPerNode = 30

        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in 0..<3 {
                group.addTask {
                    for index in 0..<writesPerNode {
                        let name = "n\(node)-w\(index)"
                        do {
                            let answer = try await clients[node].addAsset(
                                AddAssetRequest(portfolioID: fixture.portfolio, type: .page, name: name),
                                options: asAdmin)
                            let written = Acknowledged(
                                name: name, revision: answer.revision, asset: answer.asset?.id ?? 0)
                            tally.acknowledged.withLock { $0.append(written) }
                        } catch {
                            tally.failures.withLock { $0 += 1 }
                            try await Task.sleep(for: .milliseconds(50))
                        }
                    }
                }
            }
            // The faults, each once enough writes have been acknowledged around it (bounded waits).
            func reach(_ count: Int) async throws {
                for _ in 0..<2_000 where tally.count < count {
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            try await reach(15)
            let killed = nodes[1]
            _ = try await offThePool { killed.kill9() }
            await clients[1].close()
            nodes[1] = try await offThePool { try Self.start(paths[1], url, key: key) }
            clients[1] = Self.client(nodes[1], key: key)
            try await reach(40)
            try await offThePool { try postgres.stop(mode: "fast") }
            try await Task.sleep(for: .milliseconds(300))
            try await offThePool { try postgres.restart() }
            try await group.waitForAll()
        }

        // Every node writes again after the faults, reconnecting by itself (bounded retries).
        for node in 0..<3 {
            for _ in 0..<300 {
                do {
                    let name = "final-n\(node)"
                    let answer = try await clients[node].addAsset(
                        AddAssetRequest(portfolioID: fixture.portfolio, type: .page, name: name), options: asAdmin)
                    let written = Acknowledged(name: name, revision: answer.revision, asset: answer.asset?.id ?? 0)
                    tally.acknowledged.withLock { $0.append(written) }
                    break
                } catch {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }
        let written = tally.acknowledged.withLock { $0 }
        let failed = tally.failures.withLock { $0 }
        #expect(written.count >= 43, "acknowledged before, between and after the faults (\(failed) calls failed)")
        #expect(written.filter { $0.name.hasPrefix("final-") }.count == 3, "every node writes after the faults")
        let log = try await PostgresChangeLog.open(try PostgresLocation(url: url))
        let changes = try await log.load()
        await log.close()
        let head = UInt64(changes.count)
        #expect(changes.map(\.revision) == Array(1...head), "revisions dense, none doubled")
        var assets: [String: [UInt64]] = [:]
        for change in changes {
            if case .addAsset(_, _, let name, _) = change.command { assets[name, default: []].append(change.revision) }
        }
        #expect(assets.values.allSatisfy { $0.count == 1 }, "no write applied twice")
        for write in written {
            #expect(assets[write.name] == [write.revision], "\(write.name) acknowledged at \(write.revision)")
        }

        // Every node reaches the head by itself and answers the same checks the same there.
        let checks = BatchCheckPermissionsRequest(
            checks: written.map { CheckItem(assetID: $0.asset, task: .manage, subject: .systemUserID(fixture.admin)) }
                + written.map { CheckItem(assetID: $0.asset, task: .advertise, subject: .systemUserID(fixture.worker)) }
                + [CheckItem(assetID: fixture.adAccount, task: .advertise, subject: .systemUserID(fixture.worker))],
            minRevision: head)
        var answers: [BatchCheckPermissionsResponse] = []
        for node in 0..<3 {
            let options = CallOptions(timeout: .seconds(30))
            answers.append(try await clients[node].batchCheckPermissions(checks, options: options))
        }
        #expect(answers.allSatisfy { $0.revision == head })
        #expect(answers.allSatisfy { $0.results == answers[0].results }, "the nodes agree")
        #expect(answers[0].results.prefix(written.count).allSatisfy { $0.allowed }, "the admin manages every asset")
        #expect(answers[0].results.dropFirst(written.count).prefix(written.count).allSatisfy { !$0.allowed })
        #expect(answers[0].results.last?.allowed == true)
        for node in 0..<3 { await clients[node].close() }
    }
}
