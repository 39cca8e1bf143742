import NIOCore
import PorticoClient
import PorticoCore
import PorticoServer
import PorticoWire
import Synchronization
import Testing
import PorticoTestSupport

/// Clients that send calls with large answers and never read them, against one server.
@Suite("Output held for clients that do not read")
struct OutputBudgetTests {
    static let budget = 1024 * 1024
    static let maxFrame = 256 * 1024

    /// Runs `body` with a server holding `events` audit events, so that a page of ListAuditEvents is
    /// tens of kilobytes, and the size of one such answer; the server is stopped after.
    static func withAuditServer(
        events: Int = 600,
        _ body: (TestServer, _ answerBytes: Int) async throws -> Void
    ) async throws {
        let configuration = ServerConfiguration(
            maxFrameBytes: Self.maxFrame,
            slowClientTimeout: .seconds(600),
            maxBufferedOutputBytes: Self.budget
        )
        try await TestServer.with(configuration: configuration) { server in
            try await body(server, try await Self.filledWithAudit(server, events: events))
        }
    }

    /// Fills `server` with `events` audit events; returns the size of a page of 1,000 of them.
    static func filledWithAudit(_ server: TestServer, events: Int) async throws -> Int {
        let setup = server.client(connections: 2)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for index in stride(from: worker, to: events, by: 8) {
                        _ = try await setup.createPortfolio(.init(name: "portfolio number \(index) with a longer name"))
                    }
                }
            }
            try await group.waitForAll()
        }
        let page = try await setup.listAuditEvents(.init(pageSize: 1000))
        var encoded = ByteBuffer()
        try page.encode(into: &encoded, arena: WireArena())
        await setup.close()
        return encoded.readableBytes
    }

    static func auditPages(_ count: Int, key: String, from callID: UInt64 = 1) throws -> [UInt8] {
        try (0..<UInt64(count)).flatMap {
            try Wire.request(
                callID + $0, .listAuditEvents, credential: key, body: ListAuditEventsRequest(pageSize: 1000))
        }
    }

    @Test("one connection that never reads holds about one flush of answers, not its whole backlog")
    func oneNonReader() async throws {
        try await Self.withAuditServer { server, answer in
            #expect(answer > 30_000)
            let hostile = try await WireClient.connect(port: server.port, reading: false, receiveBuffer: 4096)
            // 2,000 calls whose answers add up to over 100 MB.
            try await hostile.send(WirePreface.bytes + Self.auditPages(2_000, key: server.operatorKey))
            var held = 0
            for _ in 0..<400 {
                held = server.server.statistics.bufferedOutputBytes
                if held > 0 { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(held > 0)
            for _ in 0..<50 {
                // The connection stopped taking requests once its client stopped reading: it holds one
                // flush (64 KiB of answers or one answer), the 64 KiB write watermark, and the requests read.
                #expect(server.server.statistics.bufferedOutputBytes <= 2 * answer + 64 * 1024 + 512 * 1024)
                try await Task.sleep(for: .milliseconds(10))
            }
            await hostile.close()
            for _ in 0..<1_000 where server.server.statistics.bufferedOutputBytes > 0 {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(server.server.statistics.bufferedOutputBytes == 0)
        }
    }

    @Test("many connections that never read: the total stays in the budget, the longest stalled are cut, others served")
    func manyNonReaders() async throws {
        try await Self.withAuditServer { server, answer in
            let key = server.operatorKey
            let legit = server.client()
            let stop = ManagedAtomicFlag()
            let errors = Mutex<[String]>([])
            let watcher = Task {
                var answered = 0
                while !stop.isSet && answered < 1_000_000 {
                    do {
                        _ = try await legit.ping()
                        answered += 1
                    } catch {
                        errors.withLock { $0.append("\(error)") }
                    }
                }
                return answered
            }
            var hostile: [WireClient] = []
            var peak = 0
            // Each asks for about 7 MB of answers: more than the kernel's send buffer takes on loopback (it
            // grows to a megabyte or more), so that the rest waits in the server.
            let pages = try Self.auditPages(200, key: key)
            for _ in 0..<16 {
                let client = try await WireClient.connect(port: server.port, reading: false, receiveBuffer: 4096)
                try await client.send(WirePreface.bytes + pages)
                hostile.append(client)
                peak = max(peak, server.server.statistics.bufferedOutputBytes)
            }
            for _ in 0..<3_000 where server.server.statistics.connectionsCutForOutput == 0 {
                peak = max(peak, server.server.statistics.bufferedOutputBytes)
                try await Task.sleep(for: .milliseconds(10))
            }
            let statistics = server.server.statistics
            #expect(statistics.connectionsCutForOutput > 0)
            #expect(peak <= Self.budget)
            // Counted before the cut: at most what two event loops added in one flush each past the budget.
            #expect(statistics.peakBufferedOutputBytes <= Self.budget + 2 * (answer + 64 * 1024 + Self.maxFrame))
            // The connections cut are closed by the server (the 16 and the well-behaved client's one, less those).
            let cut = statistics.connectionsCutForOutput
            for _ in 0..<2_000 where server.server.connectionCount > 17 - cut {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(server.server.connectionCount <= 17 - cut)
            stop.set()
            let answered = await watcher.value
            #expect(answered > 0)
            #expect(errors.withLock { $0 } == [])
            for client in hostile { await client.close() }
            for _ in 0..<1_000 where server.server.statistics.bufferedOutputBytes > 0 {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(server.server.statistics.bufferedOutputBytes == 0)
            await legit.close()
        }
    }

    @Test("CANCEL frames for ids never used and repeated GOAWAY frames answer nothing and hold nothing")
    func cancelAndGoAwayFloods() async throws {
        try await TestServer.with { server in
            let client = try await WireClient.connect(port: server.port)
            var flood = WirePreface.bytes
            var buffer = ByteBuffer()
            for callID in 1...10_000 {
                try Frame(header: FrameHeader(kind: .cancel, callID: UInt64(callID))).write(
                    into: &buffer, arena: WireArena())
            }
            flood += Array(buffer.readableBytesView)
            try await client.send(flood + Wire.ping(20_000))
            let answers = try await client.wait { $0.count >= 1 }
            #expect(answers.frames.map(\.header.callID) == [20_000] && !answers.closed)
            var goAways = ByteBuffer()
            for _ in 0..<100 {
                try Frame(header: .goAway(lastCallID: 0, message: "bye")).write(into: &goAways, arena: WireArena())
            }
            try await client.send(Array(goAways.readableBytesView))
            let (frames, closed) = try await client.wait(limit: .seconds(10))
            #expect(closed)
            #expect(frames.count == 1)
        }
    }
}
