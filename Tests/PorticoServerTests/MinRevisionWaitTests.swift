import NIOCore
import PorticoCore
import PorticoReasons
import PorticoServer
import PorticoTestSupport
import PorticoWire
import Testing

/// Reads whose `min_revision` the server has not reached: they wait for it over the wire, up to the
/// call's deadline, and a client cannot park more of them than its calls in flight, nor keep one
/// once its connection is gone.
@Suite("Reads that wait for their min_revision")
struct MinRevisionWaitTests {
    static func check(_ callID: UInt64, _ fixture: Fixture, key: String, minRevision: UInt64, timeoutMicros: UInt64 = 0)
        throws -> [UInt8]
    {
        try Wire.request(
            callID, .checkPermission, credential: key, timeoutMicros: timeoutMicros,
            body: CheckPermissionRequest(
                assetID: fixture.ads.rawValue, task: .manage, minRevision: minRevision,
                subject: .systemUserID(fixture.adminUser.rawValue)))
    }

    @Test("a check for the next revision waits for it, then answers at that revision")
    func waitsForTheRevision() async throws {
        try await TestServer.with { server in
            let fixture = try await Fixture.make(server.portico)
            let next = server.portico.snapshot.revision + 1
            let client = try await WireClient.connect(port: server.port)
            try await client.send(
                WirePreface.bytes + Self.check(1, fixture, key: server.operatorKey, minRevision: next))
            #expect(try await eventually { server.portico.revisionWaiters == 1 }, "the check waits")
            #expect(client.received.frames.isEmpty, "nothing is answered before the revision")

            _ = try await server.portico.execute(.createPortfolio(name: "Next", tier: .standard), as: .operator)
            let answer = try #require(try await client.wait { !$0.isEmpty }.frames.first)
            #expect(answer.header.callID == 1 && answer.header.statusCode == .ok)
            let response = try CheckPermissionResponse(decoding: answer.body, arena: WireArena())
            #expect(response.allowed && response.revision == next)
            #expect(server.portico.revisionWaiters == 0)
            #expect(try await eventually { server.server.statistics.callsInFlight == 0 })
            await client.close()
        }
    }

    @Test("a revision far ahead with a 50 ms deadline: DEADLINE_EXCEEDED, and no waiter is left")
    func deadline() async throws {
        try await TestServer.with { server in
            let fixture = try await Fixture.make(server.portico)
            let client = try await WireClient.connect(port: server.port)
            let far = server.portico.snapshot.revision + 1_000_000
            try await client.send(
                WirePreface.bytes
                    + Self.check(1, fixture, key: server.operatorKey, minRevision: far, timeoutMicros: 50_000))
            let answer = try #require(try await client.wait { !$0.isEmpty }.frames.first)
            #expect(answer.header.statusCode == .deadlineExceeded)
            #expect(answer.header.errorDetail?.reason == ErrorReason.deadlineExceeded.rawValue)
            #expect(try await eventually { server.portico.revisionWaiters == 0 }, "the waiter is removed")
            #expect(try await eventually { server.server.statistics.callsInFlight == 0 })
            // The connection serves on: a check at a revision it holds answers at once.
            try await client.send(Self.check(2, fixture, key: server.operatorKey, minRevision: 1))
            let second = try #require(try await client.wait { $0.count >= 2 }.frames.last)
            #expect(second.header.callID == 2 && second.header.statusCode == .ok)
            await client.close()
        }
    }

    @Test("1,000 pipelined waiting checks: no more wait than the calls in flight, and closing frees them")
    func hostilePipeline() async throws {
        let limit = 16
        try await TestServer.with(
            configuration: ServerConfiguration(maxCallsInFlightPerConnection: limit)
        ) { server in
            let fixture = try await Fixture.make(server.portico)
            let far = server.portico.snapshot.revision + 1_000_000
            let client = try await WireClient.connect(port: server.port)
            let calls = try (1...1_000).flatMap {
                try Self.check($0, fixture, key: server.operatorKey, minRevision: far)
            }
            try await client.send(WirePreface.bytes + calls)
            let refused = try await client.wait { $0.count >= 1_000 - limit }.frames
            #expect(refused.count == 1_000 - limit)
            #expect(refused.allSatisfy { $0.header.statusCode == .resourceExhausted })
            #expect(refused.allSatisfy { $0.header.errorDetail?.reason == ErrorReason.tooManyCalls.rawValue })
            #expect(try await eventually { server.portico.revisionWaiters == limit })
            #expect(server.portico.revisionWaiters == limit, "only the calls in flight wait")

            await client.close()
            #expect(try await eventually { server.portico.revisionWaiters == 0 }, "closing frees every waiter")
            #expect(try await eventually { server.server.statistics.callsInFlight == 0 })
        }
    }

    @Test("draining answers the waiting checks UNAVAILABLE (REVISION_NOT_VISIBLE) and then closes")
    func drainEndsWaits() async throws {
        try await TestServer.with { server in
            let fixture = try await Fixture.make(server.portico)
            let far = server.portico.snapshot.revision + 1_000_000
            let client = try await WireClient.connect(port: server.port)
            try await client.send(
                WirePreface.bytes
                    + (1...3).flatMap { try Self.check($0, fixture, key: server.operatorKey, minRevision: far) })
            #expect(try await eventually { server.portico.revisionWaiters == 3 })
            var goAway = ByteBuffer()
            try Frame.write(
                header: FrameHeader(kind: .goaway), message: PingRequest(), into: &goAway, arena: WireArena())
            try await client.send(Array(goAway.readableBytesView))
            let frames = try await client.wait { $0.count >= 3 }.frames
            #expect(frames.count == 3 && frames.allSatisfy { $0.header.statusCode == .unavailable })
            #expect(frames.allSatisfy { $0.header.errorDetail?.reason == ErrorReason.revisionNotVisible.rawValue })
            #expect(try await client.wait().closed, "the drained connection closes")
            #expect(try await eventually { server.portico.revisionWaiters == 0 })
        }
    }
}
