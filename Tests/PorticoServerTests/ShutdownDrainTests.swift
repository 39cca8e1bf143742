import NIOCore
import PorticoCore
import PorticoServer
import PorticoTestSupport
import PorticoWire
import Testing

/// A graceful shutdown keeps the promise of its GOAWAY: every call up to `last_call_id` is answered,
/// and the connection ends with a clean close, not a reset that would destroy answers in flight.
@Suite("Answers kept through a graceful shutdown")
struct ShutdownDrainTests {
    @Test("a client reading its answers only after the shutdown gets every answer up to last_call_id, then EOF")
    func answersSentBeforeClosing() async throws {
        let configuration = ServerConfiguration(
            maxFrameBytes: OutputBudgetTests.maxFrame,
            slowClientTimeout: .seconds(600),
            shutdownGracePeriod: .seconds(600)
        )
        try await TestServer.with(configuration: configuration) { server in
            _ = try await OutputBudgetTests.filledWithAudit(server, events: 300)
            let client = try await WireClient.connect(port: server.port, reading: false, receiveBuffer: 4096)
            // 300 pages of about 17 kB each: more than the sockets hold, so that answers wait in the server,
            // and more requests than it takes while its client does not read, so that some wait unread.
            let calls = 300
            // Then a megabyte of pings the server does not read before it closes: a socket closed with bytes
            // unread is reset, and a reset destroys the answers its client had not read yet.
            let pings = try (1...100_000).flatMap { try Wire.ping(UInt64(calls + $0)) }
            client.sendWithoutWaiting(
                try WirePreface.bytes + OutputBudgetTests.auditPages(calls, key: server.operatorKey) + pings)
            var stalled = 0
            for _ in 0..<2_000 {
                stalled = server.server.statistics.bufferedOutputBytes
                if stalled > 0 && server.server.statistics.callsInFlight == 0 { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(stalled > 0)
            server.beginShutdown()
            // The connection has sent its GOAWAY (it holds more) or, as before, closed at once.
            for _ in 0..<2_000 {
                let statistics = server.server.statistics
                if statistics.bufferedOutputBytes > stalled || statistics.connections == 0 { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            try await client.startReading()
            let (frames, closed) = try await client.wait(limit: .seconds(60))
            #expect(closed)
            #expect(client.error == nil)
            let goAway = try #require(frames.first { $0.header.kind == .goaway })
            #expect(goAway.header.statusCode == .unavailable)
            let lastCallID = goAway.header.lastCallID
            #expect(lastCallID > 0)
            let answered = Set(frames.filter { $0.header.kind == .response }.map(\.header.callID))
            let missing = (1...lastCallID).filter { !answered.contains($0) }
            #expect(missing.isEmpty, "\(missing.count) calls up to \(lastCallID) not answered")
        }
    }
}
