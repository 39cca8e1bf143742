import PorticoClient
import PorticoCore
import PorticoPostgres
import PorticoTestSupport
import PorticoWire
import Testing

/// Read-your-writes across nodes over the wire: a write on node A, then a check on node B's port with
/// the write's revision as `min_revision`, which B answers once it has applied that revision.
@Suite("min_revision across nodes on one PostgreSQL log", .serialized)
struct MinRevisionAcrossNodesTests {
    @Test("a check on node B with node A's write revision waits until B applies it, then answers it")
    func readYourWriteOnAnotherNode() async throws {
        let location = try await freshLog("wirewait")
        let a = try await Node(location)
        let logB = try await PostgresChangeLog.open(location)
        defer { Task { await a.stop() } }
        try await TestServer.with(store: logB) { b in
            let fixture = try await Fixture.make(a.portico)
            let written = try await a.portico.execute(
                .assign(fixture.alice, fixture.ads, TaskSet([.advertise])), as: fixture.admin)
            // B does not follow the log yet, so it cannot have the write: the check must wait.
            #expect(b.portico.snapshot.revision < written.revision)
            let client = b.client()
            let check = Task {
                try await client.checkPermission(
                    CheckPermissionRequest(
                        assetID: fixture.ads.rawValue, task: .advertise, minRevision: written.revision,
                        subject: .personID(fixture.alice.rawValue)))
            }
            #expect(try await eventually { b.portico.revisionWaiters == 1 }, "the check waits on node B")

            let follower = LogFollower(portico: b.portico, log: logB, poll: .milliseconds(200))
            let following = Task { await follower.run() }
            defer { following.cancel() }
            let answer = try await check.value
            #expect(answer.allowed, "node B sees node A's assignment")
            #expect(answer.revision >= written.revision)
            #expect(b.portico.revisionWaiters == 0)
        }
        await logB.close()
    }
}
