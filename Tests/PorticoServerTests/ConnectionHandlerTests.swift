import Logging
import NIOCore
import NIOEmbedded
import PorticoCore
@testable import PorticoServer
import PorticoWire
import Testing

/// The connection handler on an EmbeddedChannel: what it takes in a turn, and when it reads.
@Suite("Connection handler turns")
struct ConnectionHandlerTests {
    /// A channel with a connection handler serving a core of its own (pings need nothing of it).
    static func channel() async throws -> EmbeddedChannel {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let configuration = ServerConfiguration()
        let dispatcher = Dispatcher(
            portico: try await Portico.open(),
            operatorKey: SecretDigest(of: OperatorKey.generate()),
            configuration: configuration
        )
        let environment = ConnectionEnvironment(configuration: configuration, dispatcher: dispatcher, logger: logger)
        let channel = EmbeddedChannel()
        guard case .admitted(let slot) = environment.registry.admit(channel, peer: nil) else {
            throw NotAdmitted()
        }
        try channel.pipeline.syncOperations.addHandler(ConnectionHandler(environment: environment, slot: slot))
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).get()
        return channel
    }

    struct NotAdmitted: Error {}

    static func pings(_ count: Int, preface: Bool = true) throws -> ByteBuffer {
        var buffer = ByteBuffer(bytes: preface ? WirePreface.bytes : [])
        for call in 1...count { buffer.writeBytes(try Wire.ping(UInt64(call))) }
        return buffer
    }

    /// The answers written so far.
    static func answers(_ channel: EmbeddedChannel) throws -> Int {
        var count = 0
        while var out = try channel.readOutbound(as: ByteBuffer.self) {
            var decoder = FrameDecoder(expectPreface: false)
            while try decoder.nextFrame(from: &out) != nil { count += 1 }
        }
        return count
    }

    @Test("3,000 pipelined calls in one read: a turn takes 1,024, the rest wait for later turns, one per pass")
    func turns() async throws {
        let channel = try await Self.channel()
        try channel.writeInbound(try Self.pings(3_000))
        #expect(try Self.answers(channel) == 1_024)
        // The next turn is not a task ready at once (the loop would run it before polling its sockets):
        // it comes with the next pass of the loop's turn queue, a moment later.
        channel.embeddedEventLoop.run()
        #expect(try Self.answers(channel) == 0)
        channel.embeddedEventLoop.advanceTime(by: TurnQueue.gap)
        #expect(try Self.answers(channel) == 1_024)
        channel.embeddedEventLoop.advanceTime(by: TurnQueue.gap)
        #expect(try Self.answers(channel) == 3_000 - 2_048)
        _ = try channel.finish()
    }

    @Test("a client that does not read its answers stalls its connection: nothing is taken until it is writable")
    func stall() async throws {
        let channel = try await Self.channel()
        try channel.writeInbound(try Self.pings(10))
        #expect(try Self.answers(channel) == 10)
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        try channel.writeInbound(try Self.pings(10, preface: false))
        channel.embeddedEventLoop.run()
        #expect(try Self.answers(channel) == 0)
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(try Self.answers(channel) == 10)
        _ = try channel.finish()
    }
}
