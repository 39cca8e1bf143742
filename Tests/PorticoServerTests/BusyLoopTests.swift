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
/// The limits are 2 s (5 s for the slow client), so that a test process slow to resume (a full run on
/// a loaded machine) does not pass one before the loop is blocked.
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

    /// Blocks `loop` for `time` while `part` runs: the loop's timers due meanwhile run late, with
    /// whatever `part` sent waiting unread in the sockets.
    static func block(_ loop: any EventLoop, for time: Duration, while part: () async throws -> Void) async throws {
        let microseconds = UInt32(time / .microseconds(1))
        let blocked = loop.submit { _ = usleep(microseconds) }
        try await part()
        try await blocked.get()
    }

    @Test("a first call the server reads late, its event loop busy past the first-call timeout, is answered")
    func busyLoopReadsTheFirstCall() async throws {
        try await Self.withOwnLoop(ServerConfiguration(firstCallTimeout: .seconds(2))) { server, loop in
            let client = try await WireClient.connect(port: server.port)
            let end = ContinuousClock.now + .seconds(30)
            while server.server.connectionCount == 0 && ContinuousClock.now < end {
                try await Task.sleep(for: .milliseconds(5))
            }
            try #require(server.server.connectionCount == 1)
            try await Self.block(loop, for: .seconds(3)) {
                try await client.send(WirePreface.bytes + Wire.ping(1))
            }
            _ = try await client.wait(limit: .seconds(30)) { !$0.isEmpty }
            try? await client.send(Wire.ping(2))
            let (frames, closed) = try await client.wait(limit: .seconds(30)) { $0.count >= 2 }
            #expect(!closed)
            #expect(frames.map(\.header.kind) == [.response, .response], "\(frames.map(\.header))")
            #expect(frames.allSatisfy { $0.header.statusCode == .ok })
            await client.close()
        }
    }

    @Test("a frame the server reads late, its event loop busy past the frame timeout, is answered, not cut")
    func busyLoopReadsTheFrame() async throws {
        try await Self.withOwnLoop(ServerConfiguration(frameTimeout: .seconds(2))) { server, loop in
            let frame = try Wire.ping(1)
            let client = try await WireClient.connect(port: server.port, first: WirePreface.bytes + frame.prefix(2))
            // The server has read the frame's first bytes (it holds them): the frame's clock runs.
            let end = ContinuousClock.now + .seconds(30)
            while server.server.statistics.bufferedInputBytes == 0 && ContinuousClock.now < end {
                try await Task.sleep(for: .milliseconds(5))
            }
            try #require(server.server.statistics.bufferedInputBytes > 0)
            try await Self.block(loop, for: .seconds(3)) {
                try await client.send(Array(frame.dropFirst(2)))
            }
            let (frames, closed) = try await client.wait(limit: .seconds(30)) { !$0.isEmpty }
            #expect(!closed)
            #expect(frames.map(\.header.kind) == [.response], "\(frames.map(\.header))")
            #expect(frames.first?.header.statusCode == .ok)
            await client.close()
        }
    }

    @Test("a client that read its answers while the server's loop was busy past the slow-client timeout stays")
    func busyLoopSeesTheClientRead() async throws {
        try await Self.withOwnLoop(ServerConfiguration(slowClientTimeout: .seconds(5))) { server, loop in
            _ = try await OutputBudgetTests.filledWithAudit(server, events: 600)
            let client = try await WireClient.connect(port: server.port, reading: false, receiveBuffer: 4096)
            // 400 answers of about 40 KB: more than the socket takes while the client does not read.
            let pages = try OutputBudgetTests.auditPages(400, key: server.operatorKey)
            try await client.send(WirePreface.bytes + pages)
            // The answers fill the socket: the server stops writing, and its slow-client clock runs
            // (once the socket's buffers are full, it stays stalled: 20 looks in a row).
            var stalledLooks = 0
            for _ in 0..<2_000 where stalledLooks < 20 {
                stalledLooks = server.server.statistics.bufferedOutputBytes > 0 ? stalledLooks + 1 : 0
                try await Task.sleep(for: .milliseconds(5))
            }
            try #require(stalledLooks == 20)
            // The client reads what the socket holds while the loop is blocked past the timeout (5 s, so
            // that a test process slow to read the rest afterwards is not cut for that).
            try await Self.block(loop, for: .seconds(6)) {
                try await client.startReading()
                try await Task.sleep(for: .milliseconds(200))
            }
            let (frames, closed) = try await client.wait(limit: .seconds(60)) { $0.count >= 400 }
            #expect(!closed)
            #expect(frames.count == 400)
            #expect(frames.allSatisfy { $0.header.kind == .response && $0.header.statusCode == .ok })
            await client.close()
        }
    }
}
