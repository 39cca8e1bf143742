import Foundation
import PorticoCore
import PorticoPostgres
import PorticoReasons
import PorticoTestSupport
import Testing

@testable import PorticoStore

/// Several nodes on one PostgreSQL log: dense revisions under concurrent writes from every node,
/// a lost race validated again, reads that wait for a revision, the schema's version.
@Suite("Nodes sharing one PostgreSQL log", .serialized)
struct SharedLogTests {
    @Test("three nodes writing at once: revisions dense and unique, and every node ends in the log's state")
    func concurrentWriters() async throws {
        let location = try await freshLog("dense")
        let nodes = [try await Node(location), try await Node(location), try await Node(location)]
        defer { Task { for node in nodes { await node.stop() } } }
        let fixture = try await Fixture.make(nodes[0].portico)
        try await nodes[1].reach(nodes[0].portico.snapshot.revision)
        try await nodes[2].reach(nodes[0].portico.snapshot.revision)

        // 3 nodes x 8 writers x 6 assets each, every write acknowledged with its revision.
        let written = try await withThrowingTaskGroup(of: [(node: Int, revision: Revision, asset: AssetID)].self) {
            group in
            for writer in 0..<24 {
                group.addTask {
                    let node = nodes[writer % 3]
                    var done: [(Int, Revision, AssetID)] = []
                    for index in 0..<6 {
                        let result = try await node.portico.execute(
                            .addAsset(fixture.portfolio, type: .page, name: "w\(writer)-\(index)"), as: fixture.admin)
                        done.append((writer % 3, result.revision, AssetID(try #require(result.createdID))))
                    }
                    return done
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(written.count == 144)
        #expect(Set(written.map(\.revision)).count == 144, "every acknowledged write has a revision of its own")

        // Read-your-writes on every node: a write acknowledged by one is visible on the others at its revision.
        for (_, revision, asset) in written {
            for node in nodes {
                let snapshot = try await node.reach(revision)
                #expect(snapshot.state.revision >= revision)
                #expect(
                    snapshot.check(
                        principal: fixture.adminUser, asset: asset, task: .manage, now: node.portico.clock.now()
                    )
                    .allowed,
                    "asset \(asset) at revision \(revision)")
            }
        }
        // The log is dense, and replaying it gives every node's state.
        let log = try await nodes[0].log.load()
        #expect(log.map(\.revision) == Array(1...Revision(log.count)))
        let head = Revision(log.count)
        let replayed = try AccessState.replay(log)
        for node in nodes {
            #expect(try await node.reach(head).state == replayed)
        }
    }

    @Test("a write validated against a stale state is validated again under the log's lock, and refused")
    func lostRace() async throws {
        let location = try await freshLog("race")
        let a = try await Node(location, follow: false)
        let b = try await Node(location, follow: false)
        defer {
            Task {
                await a.stop()
                await b.stop()
            }
        }
        let fixture = try await Fixture.make(a.portico)
        // B learns the fixture through its own write's transaction (it absorbs what it missed first).
        let other = try await b.portico.execute(.createPortfolio(name: "Other", tier: .standard), as: .operator)
        #expect(other.revision == a.portico.snapshot.revision + 1)
        #expect(b.portico.snapshot.revision == other.revision)

        // A removes the ad account; B, which has not heard of it, assigns it.
        let removed = try await a.portico.execute(.removeAsset(fixture.ads), as: fixture.admin)
        #expect(b.portico.snapshot.revision < removed.revision, "B is stale")
        await #expect(throws: PorticoError.self) {
            try await b.portico.execute(.assign(fixture.alice, fixture.ads, TaskSet([.advertise])), as: fixture.admin)
        }
        // B caught up inside that transaction; the log holds no assignment and no gap.
        #expect(b.portico.snapshot.revision == removed.revision)
        let log = try await a.log.load()
        #expect(log.map(\.revision) == Array(1...removed.revision))
        #expect(!log.contains { if case .assign = $0.command { true } else { false } })
        // A write that still passes after catching up is numbered after the other node's.
        let next = try await b.portico.execute(
            .addAsset(fixture.portfolio, type: .page, name: "after"), as: fixture.admin)
        #expect(next.revision == removed.revision + 1)
    }

    @Test("a read for a revision the node has not reached waits for it, or fails at the deadline")
    func minRevisionWaits() async throws {
        let location = try await freshLog("wait")
        let a = try await Node(location)
        let b = try await Node(location, poll: .seconds(60))
        let stale = try await Node(location, follow: false)
        defer {
            Task {
                await a.stop()
                await b.stop()
                await stale.stop()
            }
        }
        let fixture = try await Fixture.make(a.portico)
        let last = a.portico.snapshot.revision
        // B learns of it by notification (its poll is a minute away).
        let seen = try await b.portico.snapshot(atLeast: last, until: .now + .seconds(20))
        #expect(seen.revision >= last)
        #expect(
            seen.check(principal: fixture.adminUser, asset: fixture.ads, task: .manage, now: b.portico.clock.now())
                .allowed)
        // A node that does not follow waits until the deadline, then says so; nothing stays parked.
        do {
            _ = try await stale.portico.snapshot(atLeast: last, until: .now + .milliseconds(50))
            Issue.record("a stale node answered for a revision it does not hold")
        } catch let error as PorticoError {
            #expect(error.errorReason == .revisionNotVisible)
        }
        #expect(stale.portico.status.appliedRevision == 0)
    }

    @Test("a log written by a newer Portico is refused; an up-to-date one is opened as it is")
    func newerSchema() async throws {
        let url = try await offThePool { try PostgresServer.shared().createDatabase("schema") }
        let location = try PostgresLocation(url: url)
        let first = try await PostgresChangeLog.open(location)
        let id = first.logID
        await first.close()
        let again = try await PostgresChangeLog.open(location)
        #expect(again.logID == id, "a second open migrates nothing")
        await again.close()
        try PostgresServer.shared().sql("UPDATE portico_schema SET version = 99", database: location.database)
        do {
            _ = try await PostgresChangeLog.open(location)
            Issue.record("a newer schema was opened")
        } catch let error as StoreError {
            #expect(error.code == .newerSchema)
            #expect(error.message.contains("99"))
        }
    }

    @Test("PostgreSQL out of reach: open names the place, without the password")
    func unreachable() async throws {
        let location = try PostgresLocation(
            url: "postgres://portico:secret@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
        do {
            _ = try await PostgresChangeLog.open(location)
            Issue.record("opened a log nobody serves")
        } catch {
            #expect("\(error)".contains("127.0.0.1:1"))
            #expect(!"\(error)".contains("secret"))
        }
    }
}
