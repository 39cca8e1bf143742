import NIOCore
import PorticoClient
import PorticoCore
import PorticoServer
import PorticoTestSupport
import PorticoWire
import Testing

/// Clients that send most of a large frame and wait, against one server: what the server holds for
/// frames received in part stays within its input budget, and a header is refused at its length.
@Suite("Input held for frames received in part")
struct InputBudgetTests {
    static let budget = 1024 * 1024
    static let maxFrame = 256 * 1024

    /// The preface and the first `sent` bytes of a ping frame announced at `maxFrame` bytes.
    static func partialFrame(sent: Int) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(Self.maxFrame - 4))
        buffer.writeInteger(UInt32(4))
        buffer.writeBytes([0x08, 0x01, 0x10, 0x01])
        buffer.writeRepeatingByte(0, count: sent - buffer.readableBytes)
        return WirePreface.bytes + Array(buffer.readableBytesView)
    }

    @Test("connections holding most of a frame each: the total stays in the budget, the oldest frames are cut")
    func partialFrames() async throws {
        let configuration = ServerConfiguration(
            maxFrameBytes: Self.maxFrame,
            frameTimeout: .seconds(600),
            maxBufferedInputBytes: Self.budget
        )
        try await TestServer.with(configuration: configuration) { server in
            var hostile: [WireClient] = []
            var peak = 0
            // Twelve frames of 200 KiB held at once would be 2.4 MiB (more with their buffers' slack).
            for index in 0..<12 {
                let client = try await WireClient.connect(port: server.port)
                try await client.send(Self.partialFrame(sent: 200 * 1024))
                hostile.append(client)
                // One at a time, so that the order their frames began in is the order they were sent in.
                for _ in 0..<2_000 {
                    let statistics = server.server.statistics
                    peak = max(peak, statistics.bufferedInputBytes)
                    if statistics.bufferedInputBytes >= 200 * 1024 * min(index + 1, 4)
                        || statistics.connectionsCutForInput > 0 && statistics.bufferedInputBytes >= 200 * 1024
                    {
                        break
                    }
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
            // The last frames may still be on their way in: wait (bounded) for the cuts they cause.
            for _ in 0..<2_000 where server.server.statistics.connectionsCutForInput < 7 {
                peak = max(peak, server.server.statistics.bufferedInputBytes)
                try await Task.sleep(for: .milliseconds(5))
            }
            let statistics = server.server.statistics
            #expect(statistics.connectionsCutForInput >= 7)
            #expect(peak <= Self.budget)
            // Counted before the cut: at most what two event loops added past the budget, one buffer each.
            #expect(statistics.peakBufferedInputBytes <= Self.budget + 2 * Self.maxFrame)
            // The first connection's frame began first: it was cut, with a GOAWAY that says why.
            let (frames, closed) = try await hostile[0].wait(limit: .seconds(20))
            #expect(closed)
            let goAway = try #require(frames.last)
            #expect(goAway.header.kind == .goaway)
            #expect(goAway.header.statusCode == .resourceExhausted)
            #expect(goAway.header.statusMessage.contains("input budget"))
            // The last one is still served: it finishes its frame and gets its answer.
            let last = try #require(hostile.last)
            #expect(!last.received.closed)
            try await last.send([UInt8](repeating: 0, count: Self.maxFrame - 200 * 1024))
            let answered = try await last.wait(limit: .seconds(20)) { $0.contains { $0.header.callID == 1 } }
            #expect(answered.frames.first { $0.header.callID == 1 }?.header.kind == .response)
            // A well-behaved client is served throughout.
            let client = server.client()
            _ = try await client.ping()
            for client in hostile { await client.close() }
            for _ in 0..<2_000 where server.server.statistics.bufferedInputBytes > 0 {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(server.server.statistics.bufferedInputBytes == 0)
        }
    }

    @Test("a connection whose frames arrive whole holds nothing against the budget")
    func wholeFramesHoldNothing() async throws {
        let configuration = ServerConfiguration(maxFrameBytes: Self.maxFrame, maxBufferedInputBytes: Self.maxFrame)
        try await TestServer.with(configuration: configuration) { server in
            let client = try await WireClient.connect(port: server.port)
            try await client.send(WirePreface.bytes + (1...200).flatMap { try Wire.ping(UInt64($0)) })
            let (frames, closed) = try await client.wait { $0.count >= 200 }
            #expect(!closed)
            #expect(frames.count == 200)
            #expect(server.server.statistics.connectionsCutForInput == 0)
            #expect(server.server.statistics.bufferedInputBytes == 0)
            await client.close()
        }
    }

    @Test("a header over the limit is refused at its length, before the frame is sent")
    func headerRefusedAtItsLength() async throws {
        try await TestServer.with { server in
            let client = try await WireClient.connect(port: server.port)
            var prefix = ByteBuffer()
            prefix.writeInteger(UInt32(3_000_000))
            prefix.writeInteger(UInt32(2_000_000))
            // Only the preface and the 8 bytes of lengths: the server refuses without waiting for more.
            try await client.send(WirePreface.bytes + Array(prefix.readableBytesView))
            let (frames, closed) = try await client.wait(limit: .seconds(20))
            #expect(closed)
            let goAway = try #require(frames.last)
            #expect(goAway.header.kind == .goaway)
            #expect(goAway.header.statusCode == .resourceExhausted)
            #expect(goAway.header.statusMessage.contains("header"))
            // A header of the usual size, with a credential, is still served.
            let ok = try await WireClient.connect(port: server.port)
            try await ok.send(
                WirePreface.bytes + Wire.request(1, .ping, credential: server.operatorKey, body: PingRequest()))
            #expect(try await ok.wait { !$0.isEmpty }.frames.first?.header.statusCode == .ok)
            await ok.close()
        }
    }
}
