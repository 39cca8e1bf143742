import HashTreeCollections
import NIOCore
import PorticoClient
import PorticoCore
import PorticoReasons
import PorticoServer
import PorticoTestSupport
import PorticoWire
import Testing

/// Calls in flight against a client that uses deadlines and call ids to get around the limits.
@Suite("Calls in flight, deadlines and call ids")
struct CallLimitTests {
    static func write(_ callID: UInt64, _ name: String, key: String, timeoutMicros: UInt64 = 0) throws -> [UInt8] {
        try Wire.request(
            callID, .createPortfolio, credential: key, timeoutMicros: timeoutMicros,
            body: CreatePortfolioRequest(name: name))
    }

    /// Waits (bounded) until the server's calls in flight are down to `count`.
    static func settle(_ server: TestServer, to count: Int = 0) async throws {
        for _ in 0..<2_000 where server.server.statistics.callsInFlight > count {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(server.server.statistics.callsInFlight == count)
    }

    @Test("a call answered DEADLINE_EXCEEDED counts against the limit until its work has really finished")
    func expiredCallsStillCount() async throws {
        let store = GateStore()
        try await TestServer.with(
            configuration: ServerConfiguration(maxCallsInFlightPerConnection: 4),
            store: store
        ) { server in
            let key = server.operatorKey
            let client = try await WireClient.connect(port: server.port)
            // Call 1 is held by the store; calls 2 to 4 are validated at once and wait for the store behind
            // it, and their 8 s deadlines answer them while their work waits on (long enough
            // for a loaded machine to start their tasks before the deadline, so that they are validated).
            try await client.send(
                WirePreface.bytes + Self.write(1, "held", key: key)
                    + (2...4).flatMap { try Self.write($0, "p\($0)", key: key, timeoutMicros: 8_000_000) }
            )
            let first = try await client.wait { $0.count >= 3 }.frames
            #expect(first.map(\.header.statusCode) == Array(repeating: .deadlineExceeded, count: 3))
            #expect(server.server.statistics.callsInFlight == 4)
            // Four more: the connection still has four calls at work, so they are refused at once.
            try await client.send((5...8).flatMap { try Self.write($0, "p\($0)", key: key, timeoutMicros: 50_000) })
            let second = try await client.wait { $0.count >= 7 }.frames.dropFirst(3)
            #expect(second.map(\.header.statusCode) == Array(repeating: .resourceExhausted, count: 4))
            #expect(second.allSatisfy { $0.header.errorDetail?.reason == ErrorReason.tooManyCalls.rawValue })
            store.open()
            let held = try #require(try await client.wait { $0.count >= 8 }.frames.last)
            #expect(held.header.callID == 1 && held.header.statusCode == .ok)
            try await Self.settle(server)
            // Free again: a write goes through. Calls 2 to 4 were applied if they were validated before
            // their deadlines (usually: at once), though their callers were told DEADLINE_EXCEEDED
            // (docs/protocol.md, section 7); on a loaded machine a task may start after its deadline, and
            // then it is not applied. Either way every name is there at most once, and the four refused
            // calls were never applied.
            try await client.send(try Self.write(9, "after", key: key))
            let last = try #require(try await client.wait { $0.count >= 9 }.frames.last)
            #expect(last.header.callID == 9 && last.header.statusCode == .ok)
            let names = server.portico.snapshot.state.portfolios.values.map(\.name)
            let expired = names.filter { ["p2", "p3", "p4"].contains($0) }
            #expect(names.filter { ["p5", "p6", "p7", "p8"].contains($0) }.isEmpty)
            #expect(Set(expired).count == expired.count && names.filter { $0 == "held" || $0 == "after" }.count == 2)
            let revision = try CreatePortfolioResponse(decoding: last.body, arena: WireArena()).revision
            #expect(revision == UInt64(2 + expired.count) && server.portico.snapshot.revision == revision)
            await client.close()
        }
    }

    @Test("writes with a 1 µs deadline, round after round: none is applied and the work never piles up")
    func microsecondDeadlines() async throws {
        try await TestServer.with(configuration: ServerConfiguration(maxCallsInFlightPerConnection: 8)) { server in
            let client = try await WireClient.connect(port: server.port)
            try await client.send(WirePreface.bytes)
            var callID: UInt64 = 0
            for round in 0..<50 {
                let calls = (0..<8).map { _ in
                    callID += 1
                    return callID
                }
                try await client.send(
                    calls.flatMap { try Self.write($0, "r\(round)c\($0)", key: server.operatorKey, timeoutMicros: 1) })
                let answers = try await client.wait { $0.count >= Int(callID) }.frames
                #expect(answers.count == Int(callID), "round \(round)")
                #expect(server.server.statistics.callsInFlight <= 8)
            }
            let answers = client.received.frames
            #expect(answers.allSatisfy { [.deadlineExceeded, .resourceExhausted].contains($0.header.statusCode) })
            try await Self.settle(server)
            // Every deadline passed before validation: nothing was applied.
            #expect(server.portico.snapshot.revision == 0)
            await client.close()
        }
    }

    @Test("a late answer never reaches a newer call with the same id; an id still in flight is refused")
    func reusedCallID() async throws {
        let store = GateStore()
        store.open()
        try await TestServer.with(store: store) { server in
            let setup = server.client()
            let fixture = try await ServerFixture.build(setup)
            await setup.close()
            store.close()
            let before = server.portico.snapshot.revision
            let key = server.operatorKey
            let client = try await WireClient.connect(port: server.port)
            // Call 4 is held by the store; call 5, validated at once and queued behind it, is answered by its
            // deadline while its work waits on.
            let blocker = AddPersonRequest(portfolioID: fixture.portfolio, name: "blocker", role: .employee)
            let late = AddPersonRequest(portfolioID: fixture.portfolio, name: "late", role: .employee)
            try await client.send(
                WirePreface.bytes + Wire.request(4, .addPerson, credential: key, body: blocker)
                    + Wire.request(5, .addPerson, credential: key, timeoutMicros: 1_000_000, body: late)
            )
            let expired = try await client.wait { $0.count >= 1 }.frames
            #expect(expired.map(\.header.callID) == [5] && expired.map(\.header.statusCode) == [.deadlineExceeded])
            // Id 5 again, now generating a token; and id 6 twice while the first 6 is still in flight.
            let generate = GenerateTokenRequest(
                systemUserID: fixture.admin, appID: fixture.app, scopes: [.businessManagement])
            try await client.send(
                try Wire.request(5, .generateToken, credential: key, body: generate)
                    + Self.write(6, "six", key: key) + Self.write(6, "six again", key: key)
            )
            let duplicate = try await client.wait { $0.count >= 2 }.frames[1]
            #expect(
                duplicate.header.callID == 6
                    && duplicate.header.errorDetail?.reason == ErrorReason.duplicateCallID.rawValue)
            store.open()
            let frames = try await client.wait { $0.count >= 5 }.frames
            #expect(frames.count == 5)
            let answers = frames.filter { $0.header.callID == 5 }
            #expect(answers.map(\.header.statusCode) == [.deadlineExceeded, .ok])
            // The token's own answer, with its secret: not the late call's result.
            let token = try GenerateTokenResponse(decoding: try #require(answers.last).body, arena: WireArena())
            #expect(token.secret.hasPrefix("ptk_"))
            #expect(token.token?.systemUserID == fixture.admin)
            try await Self.settle(server)
            // The blocker, the late person (validated before its deadline passed, so applied though its
            // caller was told DEADLINE_EXCEEDED), the token and "six" were applied.
            #expect(server.portico.snapshot.revision == before + 4)
            await client.close()
        }
    }
}
