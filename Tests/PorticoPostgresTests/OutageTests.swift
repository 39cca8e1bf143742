import PorticoClient
import PorticoCore
import PorticoPostgres
import PorticoTestSupport
import PorticoWire
import Testing

/// A node whose PostgreSQL stops: checks go on from its snapshot, writes fail UNAVAILABLE with a
/// reason, GetServerInfo and the metrics show how long the node has not heard from the log, and once
/// PostgreSQL is back the node catches up by itself. On a PostgreSQL of the test's own, as it is stopped.
@Suite("A node while its PostgreSQL is down", .serialized)
struct OutageTests {
    @Test("PostgreSQL stopped: checks go on, writes fail UNAVAILABLE, the last contact ages; restarted: caught up")
    func outage() async throws {
        let postgres = try await offThePool { try PostgresServer.start() }
        defer { try? postgres.stop(mode: "immediate") }
        let location = try PostgresLocation(url: try await offThePool { try postgres.createDatabase("outage") })
        let log = try await PostgresChangeLog.open(location)
        try await TestServer.with(store: log) { server in
            let follower = LogFollower(portico: server.portico, log: log, poll: .milliseconds(100))
            let following = Task { await follower.run() }
            defer { following.cancel() }
            let fixture = try await Fixture.make(server.portico)
            let client = server.client(timeout: .seconds(30))
            let check = CheckPermissionRequest(
                assetID: fixture.ads.rawValue, task: .manage, subject: .systemUserID(fixture.adminUser.rawValue))
            let before = try await client.getServerInfo()
            #expect(before.store == "postgres" && before.storeError.isEmpty && before.lastContactKnown)
            #expect(before.logHeadRevision == before.revision)

            try await offThePool { try postgres.stop(mode: "fast") }
            // Checks are answered from the snapshot.
            #expect(try await client.checkPermission(check).allowed)
            // Writes fail UNAVAILABLE, with PostgreSQL's absence as the reason.
            do {
                _ = try await client.createPortfolio(CreatePortfolioRequest(name: "During"))
                Issue.record("a write was acknowledged while PostgreSQL was down")
            } catch let error as PorticoStatusError {
                #expect(error.code == .unavailable, "\(error)")
                #expect(error.detail?.reason == "STORE_FAILED", "\(error)")
            }
            // The node says it has not heard from the log, for longer and longer.
            var down = try await client.getServerInfo()
            for _ in 0..<400 where down.storeError.isEmpty {
                try await Task.sleep(for: .milliseconds(25))
                down = try await client.getServerInfo()
            }
            #expect(!down.storeError.isEmpty, "GetServerInfo names the store's failure")
            var later = try await client.getServerInfo()
            for _ in 0..<400 where later.sinceLastContactMicros <= down.sinceLastContactMicros {
                try await Task.sleep(for: .milliseconds(25))
                later = try await client.getServerInfo()
            }
            #expect(later.sinceLastContactMicros > down.sinceLastContactMicros, "the last contact ages")
            #expect(later.revision == before.revision, "nothing was applied")

            try await offThePool { try postgres.restart() }
            // Another node writes; this one hears of it and applies it without being told to.
            let other = try await Node(location, follow: false)
            let written = try await other.portico.execute(
                .createPortfolio(name: "After", tier: .standard), as: .operator)
            await other.stop()
            let caughtUp = try await server.portico.snapshot(atLeast: written.revision, until: .now + .seconds(60))
            #expect(caughtUp.revision >= written.revision)
            var after = try await client.getServerInfo()
            for _ in 0..<400 where !after.storeError.isEmpty {
                try await Task.sleep(for: .milliseconds(25))
                after = try await client.getServerInfo()
            }
            #expect(after.storeError.isEmpty && after.logHeadRevision == after.revision)
            #expect(after.sinceLastContactMicros < later.sinceLastContactMicros)
            // And this node writes again.
            let again = try await client.createPortfolio(CreatePortfolioRequest(name: "Again"))
            #expect(again.revision == written.revision + 1)
        }
        await log.close()
    }
}
