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
///
/// The steps that must come within a limit (see the server hold the connection, block its loop, send)
/// run on a thread of their own, not on Swift's concurrency pool: in a full run other tests hold the
/// pool's two threads for seconds, and a step done there came after the limit had passed. For the
/// same reason the frame and first-call limits are 10 s: the connection is made on the pool.
@Suite("Time limits on a busy event loop")
struct BusyLoopTests {
    struct NotReady: Error {}

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

    /// On a thread of its own: waits until `ready` holds (at most 30 s), then blocks `loop` for `time`
    /// while it runs `meanwhile` (the client's part): the loop's timers due meanwhile run late, with
    /// what the client did waiting unseen in the socket.
    static func block(
        _ loop: any EventLoop, for time: TimeAmount, when ready: @escaping @Sendable () -> Bool,
        meanwhile: @escaping @Sendable () throws -> Void
    ) async throws {
        try await offThePool {
            let end = NIODeadline.now() + .seconds(30)
            while !ready() && NIODeadline.now() < end { usleep(1_000) }
            guard ready() else { throw NotReady() }
            let blocked = loop.submit { _ = usleep(UInt32(time.nanoseconds / 1_000)) }
            try meanwhile()
            try blocked.wait()
        }
    }

    @Test("a first call the server reads late, its event loop busy past the first-call timeout, is answered")
    func busyLoopReadsTheFirstCall() async throws {
        try await Self.withOwnLoop(ServerConfiguration(firstCallTimeout: .seconds(10))) { server, loop in
            let client = try await WireClient.connect(port: server.port)
            let statistics = server.server
            let call = try WirePreface.bytes + Wire.ping(1)
            try await Self.block(loop, for: .seconds(12), when: { statistics.connectionCount == 1 }) {
                try client.channel.writeAndFlush(ByteBuffer(bytes: call)).wait()
            }
            _ = try await client.wait(limit: .seconds(30)) { !$0.isEmpty }
            // Served as a connection that called in time: no GOAWAY, and it takes further calls.
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
        try await Self.withOwnLoop(ServerConfiguration(frameTimeout: .seconds(10))) { server, loop in
            let frame = try Wire.ping(1)
            let client = try await WireClient.connect(port: server.port, first: WirePreface.bytes + frame.prefix(2))
            // Once the server holds the frame's first bytes, its clock runs.
            let statistics = server.server
            try await Self.block(loop, for: .seconds(12), when: { statistics.statistics.bufferedInputBytes > 0 }) {
                try client.channel.writeAndFlush(ByteBuffer(bytes: Array(frame.dropFirst(2)))).wait()
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
        // The client on loops of its own too, so that it reads on time once the server writes again.
        let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        try await Self.withOwnLoop(ServerConfiguration(slowClientTimeout: .seconds(2))) { server, loop in
            _ = try await OutputBudgetTests.filledWithAudit(server, events: 600)
            let client = try await WireClient.connect(
                port: server.port, reading: false, receiveBuffer: 4096, group: clientGroup)
            // 400 answers of about 40 KB: more than the socket takes while the client does not read.
            try await client.send(WirePreface.bytes + OutputBudgetTests.auditPages(400, key: server.operatorKey))
            // Once the server holds answers it cannot write (its slow-client clock runs), its loop blocks
            // past the timeout while the client reads what the socket holds.
            let statistics = server.server
            try await Self.block(loop, for: .seconds(3), when: { statistics.statistics.bufferedOutputBytes > 0 }) {
                try client.channel.setOption(.autoRead, value: true).wait()
                client.channel.read()
                usleep(300_000)
            }
            let (frames, closed) = try await client.wait(limit: .seconds(60)) { $0.count >= 400 }
            #expect(!closed)
            #expect(frames.count == 400)
            #expect(frames.allSatisfy { $0.header.kind == .response && $0.header.statusCode == .ok })
            await client.close()
        }
        try await clientGroup.shutdownGracefully()
    }
}
