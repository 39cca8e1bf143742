import NIOCore
import PorticoClient
import PorticoCore
import PorticoTestSupport
import PorticoWire
import Testing

@testable import PorticoServer

/// A watcher that never reads: its stream ends once its buffer is full, writers never wait for it, and
/// the revision it is told to resume from gives exactly the rest.
@Suite("Watch: a watcher that does not read")
struct WatchSlowTests {
    /// A 4 KiB stream buffer and small kernel buffers on both ends, so that unread events stay in the
    /// server after a few hundred.
    static var configuration: ServerConfiguration {
        var configuration = ServerConfiguration(port: 0)
        configuration.watchBufferBytes = 4096
        configuration.socketSendBufferBytes = 4096
        return configuration
    }

    /// A raw client that never reads, with a Watch after `revision` open as call 1.
    static func watcher(_ server: TestServer, after revision: UInt64) async throws -> WireClient {
        let raw = try await WireClient.connect(port: server.port, reading: false, receiveBuffer: 4096)
        try await raw.send(
            WirePreface.bytes
                + Wire.request(1, .watch, credential: server.operatorKey, body: WatchRequest(afterRevision: revision)))
        return raw
    }

    @Test("a live stream whose client never reads ends RESOURCE_EXHAUSTED; resuming from its revision gets the rest")
    func neverReads() async throws {
        try await TestServer.with(configuration: Self.configuration) { server in
            let client = server.client(timeout: .seconds(60))
            let start = try await WatchStreamTests.write(client, 3)
            let raw = try await Self.watcher(server, after: start)
            #expect(try await eventually { server.portico.revisionWaiters == 1 })
            // Writers go on while the watcher reads nothing; the stream ends by itself, its call with it.
            var last = start
            var batches = 0
            while server.server.statistics.callsInFlight > 0, batches < 200 {
                last = try await WatchStreamTests.write(client, 50, tag: "w\(batches)-")
                batches += 1
            }
            #expect(server.server.statistics.callsInFlight == 0, "the stream did not end after \(last - start) changes")
            #expect(server.portico.revisionWaiters == 0)

            try await raw.startReading()
            let (frames, _) = try await raw.wait { $0.contains { $0.header.kind == .response } }
            let end = try #require(frames.first { $0.header.kind == .response }).header
            #expect(end.statusCode == .resourceExhausted)
            #expect(end.errorDetail?.reason == "WATCH_TOO_SLOW")
            let resume = try #require(end.errorDetail?.resumeRevision)
            let items = try frames.filter { $0.header.kind == .streamItem }.map {
                try #require(WatchEvent(decoding: $0.body, arena: WireArena()).event).revision
            }
            // Every item up to the resume revision, once, in order; nothing after it.
            #expect(resume > start && resume < last)
            #expect(items == Array((start + 1)...resume))
            await raw.close()

            // Resuming gets exactly the rest.
            let watcher = server.client(timeout: nil)
            var rest: [UInt64] = []
            for try await event in watcher.watch(
                WatchRequest(afterRevision: resume), options: CallOptions(timeout: .seconds(60)))
            {
                rest.append(try #require(event.event).revision)
                if rest.last! >= last { break }
            }
            #expect(rest == Array((resume + 1)...last))
        }
    }

    @Test("a stream catching up on history waits for a slow client instead of ending")
    func historyWaits() async throws {
        try await TestServer.with(configuration: Self.configuration) { server in
            let client = server.client(timeout: .seconds(60))
            let last = try await WatchStreamTests.write(client, 600, parallel: 32)
            let raw = try await Self.watcher(server, after: 0)
            // The history is many times the buffer and the kernel's: the stream stalls with its buffer full,
            // still open, and holds no waiter.
            #expect(try await eventually { server.server.statistics.callsInFlight == 1 })
            #expect(server.portico.revisionWaiters == 0)
            try await raw.startReading()
            let (frames, _) = try await raw.wait {
                $0.filter { $0.header.kind == .streamItem }.count >= Int(last)
            }
            let items = try frames.filter { $0.header.kind == .streamItem }.map {
                try #require(WatchEvent(decoding: $0.body, arena: WireArena()).event).revision
            }
            #expect(items == Array(1...last))
            #expect(!frames.contains { $0.header.kind == .response })
            await raw.close()
        }
    }
}
