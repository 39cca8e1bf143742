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
}
