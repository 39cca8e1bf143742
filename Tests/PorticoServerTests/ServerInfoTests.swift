import NIOCore
import PorticoClient
import PorticoReasons
import PorticoServer
import PorticoWire
import Testing
import PorticoTestSupport

/// GetServerInfo announces the limits a client must respect, and they are the limits the server applies.
@Suite("GetServerInfo announces the server's limits")
struct ServerInfoTests {
    @Test("max_frame_bytes and max_calls_in_flight are the configured limits")
    func announcedLimits() async throws {
        let configuration = ServerConfiguration(maxFrameBytes: 8192, maxCallsInFlightPerConnection: 3)
        try await TestServer.with(configuration: configuration) { server in
            let client = server.client()
            let info = try await client.getServerInfo(GetServerInfoRequest())
            #expect(info.maxFrameBytes == 8192)
            #expect(info.maxCallsInFlight == 3)
            #expect(info.version == PorticoServer.version)
            await client.close()
        }
    }

    @Test("a server on its own store: the log's head is its revision, no lag, the last contact is its last commit")
    func ownStoreStatus() async throws {
        try await TestServer.with { server in
            let client = server.client()
            let fresh = try await client.getServerInfo(GetServerInfoRequest())
            #expect(fresh.store == "memory" && fresh.storeError.isEmpty)
            #expect(!fresh.lastContactKnown && fresh.sinceLastContactMicros == 0, "no commit yet")
            _ = try await client.createPortfolio(CreatePortfolioRequest(name: "One"))
            let info = try await client.getServerInfo(GetServerInfoRequest())
            #expect(info.revision == 1 && info.logHeadRevision == 1 && info.lagMicros == 0)
            #expect(info.lastContactKnown)
            await client.close()
        }
    }

    @Test("a client pipelining max_calls_in_flight + 1 slow calls gets exactly one RESOURCE_EXHAUSTED")
    func announcedCallLimitIsEnforced() async throws {
        let configuration = ServerConfiguration(maxCallsInFlightPerConnection: 3)
        try await TestServer.with(configuration: configuration, store: SlowStore(delay: .milliseconds(300))) { server in
            let client = server.client()
            let limit = Int(try await client.getServerInfo(GetServerInfoRequest()).maxCallsInFlight)
            await client.close()

            // All frames in one write: the server reads them before the first slow write completes.
            var bytes = WirePreface.bytes
            for callID in 1...UInt64(limit + 1) {
                bytes += try requestBytes(
                    callID: callID,
                    method: UInt32(Method.createPortfolio.rawValue),
                    credential: server.operatorKey,
                    body: CreatePortfolioRequest(name: "p\(callID)")
                )
            }
            let (reply, _) = try await RawConnection.connect(port: server.port).exchange(bytes) { received in
                ((try? frames(in: received).count) ?? 0) >= limit + 1
            }
            let answers = try frames(in: reply)
            #expect(answers.count == limit + 1)
            let refused = answers.filter { $0.header.statusCode == .resourceExhausted }
            #expect(refused.count == 1)
            #expect(refused.first?.header.errorDetail?.reason == ErrorReason.tooManyCalls.rawValue)
            #expect(answers.filter { $0.header.statusCode == .ok }.count == limit)
        }
    }
}
