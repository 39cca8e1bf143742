import Foundation
import NIOCore
import NIOPosix
import PorticoServer
import PorticoTestSupport
import PorticoWire
import Testing

/// A server whose event loop was too busy to run its timers on time has not read its sockets either:
/// its time limits must not blame the client for bytes (or reads) the server did not look at. Each
/// test blocks the server's only event loop past a limit while the client does its part meanwhile.
@Suite("Time limits on a busy event loop")
struct BusyLoopTests {
    /// Runs `body` with a server on an event loop of its own, which `body` may block.
    static func withOwnLoop(
        _ configuration: ServerConfiguration,
        _ body: (TestServer, any EventLoop) async throws -> Void
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        try await TestServer.with(configuration: configuration, eventLoopGroup: group) { server in
            try await body(server, group.next())
        }
        try await group.shutdownGracefully()
    }

    @Test("a frame the server reads late, its event loop busy past the frame timeout, is answered, not cut")
    func busyLoopReadsBeforeItCuts() async throws {
        try await Self.withOwnLoop(ServerConfiguration(frameTimeout: .milliseconds(500))) { server, loop in
            let frame = try Wire.ping(1)
            let client = try await WireClient.connect(port: server.port, first: WirePreface.bytes + frame.prefix(2))
            // The server's only loop blocks for six frame timeouts; the frame's rest arrives meanwhile,
            // so when the loop runs again its watchdog is late and the bytes wait in the socket.
            let blocked = loop.submit { _ = usleep(3_000_000) }
            try await Task.sleep(for: .milliseconds(100))
            try await client.send(Array(frame.dropFirst(2)))
            try await blocked.get()
            let (frames, _) = try await client.wait(limit: .seconds(30)) { !$0.isEmpty }
            #expect(frames.first?.header.kind == .response, "\(frames.map(\.header))")
            #expect(frames.first?.header.statusCode == .ok)
            await client.close()
        }
    }

    @Test("a first call the server reads late, its event loop busy past the first-call timeout, is answered")
    func busyLoopReadsTheFirstCall() async throws {
        try await Self.withOwnLoop(ServerConfiguration(firstCallTimeout: .milliseconds(500))) { server, loop in
            let client = try await WireClient.connect(port: server.port)
            for _ in 0..<1_000 where server.server.connectionCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
            #expect(server.server.connectionCount == 1)
            let blocked = loop.submit { _ = usleep(3_000_000) }
            try await client.send(WirePreface.bytes + Wire.ping(1))
            try await blocked.get()
            _ = try await client.wait(limit: .seconds(30)) { !$0.isEmpty }
            // Served as a connection that called in time: no GOAWAY, and it takes further calls.
            try await client.send(Wire.ping(2))
            let (frames, closed) = try await client.wait(limit: .seconds(30)) { $0.count >= 2 }
            #expect(!closed)
            #expect(frames.map(\.header.kind) == [.response, .response], "\(frames.map(\.header))")
            #expect(frames.allSatisfy { $0.header.statusCode == .ok })
            await client.close()
        }
    }

    @Test("a client that read its answers while the server's loop was busy past the slow-client timeout stays")
    func busyLoopSeesTheClientRead() async throws {
        let configuration = ServerConfiguration(slowClientTimeout: .seconds(1))
        try await Self.withOwnLoop(configuration) { server, loop in
            _ = try await OutputBudgetTests.filledWithAudit(server, events: 600)
            let client = try await WireClient.connect(port: server.port, reading: false, receiveBuffer: 4096)
            // 400 answers of about 40 KB: more than the socket takes while the client does not read.
            let pages = try OutputBudgetTests.auditPages(400, key: server.operatorKey)
            try await client.send(WirePreface.bytes + pages)
            // The answers fill the socket: the server stops writing, and its slow-client clock runs
            // (once the socket's buffers are full, it stays stalled: 20 looks in a row).
            var stalledLooks = 0
            for _ in 0..<400 where stalledLooks < 20 {
                stalledLooks = server.server.statistics.bufferedOutputBytes > 0 ? stalledLooks + 1 : 0
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(stalledLooks == 20)
            // The loop blocks for three timeouts; the client reads what the socket holds meanwhile.
            let blocked = loop.submit { _ = usleep(3_000_000) }
            try await client.startReading()
            try await blocked.get()
            let (frames, closed) = try await client.wait(limit: .seconds(60)) { $0.count >= 400 }
            #expect(!closed)
            #expect(frames.count == 400)
            #expect(frames.allSatisfy { $0.header.kind == .response && $0.header.statusCode == .ok })
            await client.close()
        }
    }
}
