import NIOCore
import PorticoReasons
import PorticoServer
import PorticoTestSupport
import PorticoWire
import Testing

/// The call-id rules docs/protocol.md states (section 7), against a live server.
@Suite("Call ids as docs/protocol.md states them")
struct CallIDTests {
    @Test("call id 0 breaks the connection: GOAWAY INVALID_ARGUMENT, then the server closes it")
    func zeroClosesTheConnection() async throws {
        try await TestServer.with { server in
            let bytes =
                WirePreface.bytes
                + (try requestBytes(callID: 0, method: UInt32(Method.ping.rawValue), body: PingRequest()))
            let (reply, closed) = try await RawConnection.connect(port: server.port).exchange(bytes)
            #expect(closed)
            let answers = try frames(in: reply)
            #expect(answers.count == 1)
            #expect(answers.first?.header.kind == .goaway)
            #expect(answers.first?.header.statusCode == .invalidArgument)
        }
    }

    @Test("a call id still in flight fails alone; the first call with it is answered, the connection stays open")
    func duplicateInFlight() async throws {
        try await TestServer.with(store: SlowStore(delay: .milliseconds(300))) { server in
            let write = try requestBytes(
                callID: 9, method: UInt32(Method.createPortfolio.rawValue), credential: server.operatorKey,
                body: CreatePortfolioRequest(name: "slow")
            )
            let ping = try requestBytes(callID: 10, method: UInt32(Method.ping.rawValue), body: PingRequest())
            // Call 9 twice while the first is in flight, then a ping on the same connection.
            let (reply, closed) = try await RawConnection.connect(port: server.port).exchange(
                WirePreface.bytes + write + write + ping
            ) { received in ((try? frames(in: received).count) ?? 0) >= 3 }
            #expect(!closed)
            let answers = try frames(in: reply)
            #expect(answers.count == 3)
            let nines = answers.filter { $0.header.callID == 9 }
            #expect(nines.map(\.header.statusCode).sorted { $0.rawValue < $1.rawValue } == [.ok, .invalidArgument])
            #expect(
                nines.first { $0.header.statusCode == .invalidArgument }?.header.errorDetail?.reason
                    == ErrorReason.duplicateCallID.rawValue)
            #expect(answers.contains { $0.header.callID == 10 && $0.header.statusCode == .ok })
        }
    }

    @Test(
        "write(5), write(5), ping(5): the refusals carry DUPLICATE_CALL_ID, first; the call in flight is answered last"
    )
    func duplicatesToldApart() async throws {
        let store = GateStore()
        try await TestServer.with(store: store) { server in
            let key = server.operatorKey
            let client = try await WireClient.connect(port: server.port)
            try await client.send(
                WirePreface.bytes + (try CallLimitTests.write(5, "first", key: key))
                    + (try CallLimitTests.write(5, "second", key: key)) + (try Wire.ping(5))
            )
            let refused = try await client.wait { $0.count >= 2 }.frames
            #expect(refused.count == 2)
            for answer in refused {
                #expect(answer.header.callID == 5)
                #expect(answer.header.statusCode == .invalidArgument)
                #expect(answer.header.errorDetail?.reason == ErrorReason.duplicateCallID.rawValue)
            }
            store.open()
            let answers = try await client.wait { $0.count >= 3 }.frames
            #expect(answers.count == 3)
            let last = try #require(answers.last)
            #expect(last.header.callID == 5 && last.header.statusCode == .ok)
            #expect(last.header.errorDetail == nil)
            let created = try CreatePortfolioResponse(decoding: last.body, arena: WireArena())
            #expect(created.portfolio?.name == "first")
            await client.close()
        }
    }
}
