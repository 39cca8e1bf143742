import Foundation
import NIOCore
import PorticoCore
import PorticoReasons
import PorticoServer
import PorticoTestSupport
import PorticoWire
import Testing

/// The frame timeout is about the client's sending rate: a frame still arriving at a fair rate when the
/// timeout passes (as one does when the server is the slow side, reading late) is not cut; a trickle is.
@Suite("Frame timeout and sending rate")
struct FrameRateTests {
    /// A ping frame padded with an unknown field to `bytes` bytes in all (its body is skipped).
    static func largePing(callID: UInt64, bytes: Int) throws -> [UInt8] {
        var header = ByteBuffer()
        try FrameHeader.request(callID: callID, method: .ping).encode(into: &header, arena: WireArena())
        var frame = ByteBuffer()
        let body = bytes - 8 - header.readableBytes
        frame.writeInteger(UInt32(bytes - 4))
        frame.writeInteger(UInt32(header.readableBytes))
        frame.writeImmutableBuffer(header)
        // Field 15, length-delimited, of the rest: an unknown field, skipped by the decoder.
        let payload = body - 1 - 3
        frame.writeBytes([
            0x7A, UInt8(payload & 0x7F) | 0x80, UInt8((payload >> 7) & 0x7F) | 0x80, UInt8(payload >> 14),
        ])
        frame.writeRepeatingByte(0x41, count: payload)
        return Array(frame.readableBytesView)
    }

    @Test("a 1.5 MB frame sent at about 600 KB/s over a frame timeout of 1 s is answered, not cut")
    func fairRateOutlastsTheTimeout() async throws {
        // The server and the client run on event loops of their own: on the shared ones, another test's
        // work (a 4 MiB body decoded, say) held the loop for seconds, during which this client could not
        // send and the server, looking again, found the frame no further on.
        try await withOwnEventLoops { serverGroup, clientGroup in
            try await TestServer.with(
                configuration: ServerConfiguration(frameTimeout: .seconds(1)), eventLoopGroup: serverGroup
            ) { server in
                let client = try await WireClient.connect(
                    port: server.port, first: WirePreface.bytes, group: clientGroup)
                let frame = try Self.largePing(callID: 1, bytes: 1_500_000)
                // 24 pieces 100 ms apart: the frame takes over 2 s, twice the timeout, at 37 times the minimum rate.
                // Sent from a thread of its own: in a full run other tests hold the concurrency pool for
                // seconds, and a sender paused that long would really be sending below the minimum rate.
                let piece = frame.count / 24 + 1
                try await offThePool {
                    for start in stride(from: 0, to: frame.count, by: piece) {
                        let bytes = ByteBuffer(bytes: frame[start..<min(frame.count, start + piece)])
                        try client.channel.writeAndFlush(bytes).wait()
                        usleep(100_000)
                    }
                }
                let (frames, _) = try await client.wait(limit: .seconds(30)) { !$0.isEmpty }
                #expect(frames.first?.header.kind == .response)
                #expect(frames.first?.header.callID == 1)
                #expect(frames.first?.header.statusCode == .ok)
                await client.close()
            }
        }
    }

    @Test("a frame trickling a byte at a time is still cut at the frame timeout")
    func trickleIsCut() async throws {
        // A test process too busy to send the preface within the frame timeout sees the preface cut
        // instead; that run says nothing of trickles, so it is tried again (at most three times).
        var cutWhile: String?
        for _ in 0..<3 where cutWhile != "a frame" {
            cutWhile = try await Self.trickle()
        }
        #expect(cutWhile == "a frame")
    }

    /// Trickles a ping a byte every 200 ms and returns what the server said it cut ("the preface" or
    /// "a frame"), after checking it cut the connection with GOAWAY DEADLINE_EXCEEDED, FRAME_TIMEOUT.
    private static func trickle() async throws -> String? {
        try await TestServer.with(configuration: ServerConfiguration(frameTimeout: .milliseconds(500))) { server in
            let frame = try Wire.ping(1)
            let client = try await WireClient.connect(port: server.port, first: WirePreface.bytes + frame.prefix(2))
            var closed = false
            for byte in frame.dropFirst(2).dropLast() where !closed {
                try? await client.send([byte])
                try await Task.sleep(for: .milliseconds(200))
                closed = client.received.closed
            }
            let (frames, wasClosed) = try await client.wait(limit: .seconds(30))
            #expect(wasClosed)
            let goAway = try #require(frames.last?.header)
            #expect(goAway.kind == .goaway)
            #expect(goAway.statusCode == .deadlineExceeded)
            #expect(goAway.errorDetail?.reason == ErrorReason.frameTimeout.rawValue)
            return ["the preface", "a frame"].first { goAway.statusMessage.hasPrefix($0) }
        }
    }
}
