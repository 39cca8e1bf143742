import GRPCCore
import PorticoCore
import PorticoGRPC
import PorticoTestSupport
import PorticoWire
import Testing

/// Reads whose `min_revision` the server has not reached, over gRPC: they wait as on the native port,
/// up to the call's deadline, and a client that goes away leaves no waiter behind.
@Suite("gRPC endpoint: reads that wait for their min_revision")
struct GRPCMinRevisionTests {
    static func check(_ fixture: Fixture, minRevision: UInt64) -> CheckPermissionRequest {
        CheckPermissionRequest(
            assetID: fixture.ads.rawValue, task: .manage, minRevision: minRevision,
            subject: .systemUserID(fixture.adminUser.rawValue))
    }

    @Test("a check for the next revision waits for it, then answers at that revision; a far one times out")
    func waits() async throws {
        try await GRPCTestEndpoint.with { endpoint in
            let portico = endpoint.server.portico
            let fixture = try await Fixture.make(portico)
            let next = portico.snapshot.revision + 1
            try await endpoint.withClient { client in
                let key = endpoint.operatorKey
                let waiting = Task {
                    try await client.call(
                        PorticoService.CheckPermission.self, Self.check(fixture, minRevision: next), credential: key)
                }
                #expect(try await eventually { portico.revisionWaiters == 1 }, "the check waits")
                _ = try await portico.execute(.createPortfolio(name: "Next", tier: .standard), as: .operator)
                let answer = try await waiting.value
                #expect(answer.allowed && answer.revision == next)

                await expectRPCError(.deadlineExceeded) {
                    try await client.call(
                        PorticoService.CheckPermission.self, Self.check(fixture, minRevision: next + 1_000_000),
                        credential: key, timeout: .milliseconds(50))
                }
                #expect(try await eventually { portico.revisionWaiters == 0 }, "the waiter is removed")

                // A client that gives up (its task cancelled) leaves nothing parked.
                let abandoned = Task {
                    try await client.call(
                        PorticoService.CheckPermission.self, Self.check(fixture, minRevision: next + 1_000_000),
                        credential: key)
                }
                #expect(try await eventually { portico.revisionWaiters == 1 })
                abandoned.cancel()
                _ = await abandoned.result
                #expect(try await eventually { portico.revisionWaiters == 0 }, "cancelling frees the waiter")
            }
        }
    }
}
