import NIOCore
import PorticoClient
import PorticoCore
import PorticoTestSupport
import PorticoWire
import Synchronization
import Testing

@testable import PorticoServer

/// Watch over the native port: history then live changes with nothing missed or repeated, the
/// portfolio filter and its authorization, and the ends of a stream (cancel, drain, a watcher too slow)
/// each with the revision to resume from and nothing left behind.
@Suite("Watch streams")
struct WatchStreamTests {
    /// Creates `count` portfolios, `parallel` at a time; returns the newest revision.
    static func write(_ client: PorticoClient, _ count: Int, parallel: Int = 16, tag: String = "p") async throws
        -> UInt64
    {
        var newest: UInt64 = 0
        var done = 0
        while done < count {
            let batch = min(parallel, count - done)
            let revisions = try await withThrowingTaskGroup(of: UInt64.self) { group in
                for index in 0..<batch {
                    let name = "\(tag)\(done + index)"
                    group.addTask { try await client.createPortfolio(.init(name: name)).revision }
                }
                return try await group.reduce(into: [UInt64]()) { $0.append($1) }
            }
            newest = max(newest, revisions.max() ?? 0)
            done += batch
        }
        return newest
    }

    /// Reads `events` until one at `revision` or later; the stream's deadline bounds the wait.
    static func collect(
        _ events: AsyncThrowingStream<WatchEvent, any Error>, through revision: @Sendable () -> UInt64?
    ) async throws -> [UInt64] {
        var seen: [UInt64] = []
        for try await event in events {
            seen.append(event.event?.revision ?? 0)
            if let last = revision(), seen.last! >= last { break }
        }
        return seen
    }

    @Test("history, then changes committed while the stream switches to live: every revision once, in order")
    func historyThenLive() async throws {
        try await TestServer.with { server in
            let client = server.client(timeout: .seconds(60))
            // More history than one page and one turn of the stream (100 events a page, 16 pages a turn).
            let history = try await Self.write(client, 1_700, parallel: 32)
            let watcher = server.client(timeout: nil)
            let events = watcher.watch(WatchRequest(afterRevision: 0), options: CallOptions(timeout: .seconds(120)))
            let newest = Mutex<UInt64?>(nil)
            async let seen = Self.collect(events) { newest.withLock { $0 } }
            // Writers race the stream's catching up: some changes commit while it reads history.
            let last = try await Self.write(client, 400, parallel: 8, tag: "live")
            newest.withLock { $0 = last }
            // The stream may have delivered `last` before the collector could know it: one more change wakes it.
            _ = try await Self.write(client, 1, tag: "wake")
            let revisions = try await seen
            #expect(last > history)
            #expect(revisions.last ?? 0 >= last)
            #expect(revisions == Array(1...UInt64(revisions.count)), "a gap or a repeat in \(revisions.count) events")
        }
    }

    @Test("a portfolio filter streams that portfolio's changes only; who may watch is who may list audit events")
    func filterAndAuthorization() async throws {
        try await TestServer.with { server in
            let client = server.client()
            let fixture = try await ServerFixture.build(client)
            let other = try await client.createPortfolio(.init(name: "Other")).portfolio!.id
            let head = server.portico.snapshot.revision

            // The admin of the fixture's portfolio may watch it, and only it.
            let admin = server.client(credential: fixture.adminToken, timeout: nil)
            let mine = admin.watch(
                WatchRequest(afterRevision: 0, portfolioID: fixture.portfolio),
                options: CallOptions(timeout: .seconds(60)))
            await expectStatus(.permissionDenied, reason: "PERMISSION_DENIED") {
                for try await _ in admin.watch(WatchRequest(afterRevision: 0)) {}
            }
            await expectStatus(.permissionDenied, reason: "PERMISSION_DENIED") {
                for try await _ in admin.watch(WatchRequest(afterRevision: 0, portfolioID: other)) {}
            }
            // A regular system user's token may not watch at all; no credential is no caller.
            await expectStatus(.permissionDenied) {
                let worker = server.client(credential: fixture.workerToken)
                for try await _ in worker.watch(WatchRequest(portfolioID: fixture.portfolio)) {}
            }
            await expectStatus(.unauthenticated, reason: "MISSING_CREDENTIAL") {
                for try await _ in server.client(credential: "").watch(WatchRequest()) {}
            }
            // After the node's revision: refused at once.
            await expectStatus(.unavailable, reason: "REVISION_NOT_VISIBLE") {
                for try await _ in client.watch(WatchRequest(afterRevision: head + 1)) {}
            }

            // Changes to the other portfolio interleave with the admin's own.
            _ = try await client.addApp(.init(portfolioID: other, name: "theirs"))
            let own = try await client.addApp(.init(portfolioID: fixture.portfolio, name: "ours")).revision
            _ = try await client.addApp(.init(portfolioID: other, name: "theirs too"))
            var portfolios: Set<UInt64> = []
            var revisions: [UInt64] = []
            for try await event in mine {
                let change = try #require(event.event)
                portfolios.insert(change.portfolioID)
                revisions.append(change.revision)
                if change.revision >= own { break }
            }
            #expect(portfolios == [fixture.portfolio])
            #expect(revisions == revisions.sorted() && Set(revisions).count == revisions.count)
            let expected = try await client.listAuditEvents(.init(portfolioID: fixture.portfolio, pageSize: 1000))
            #expect(revisions == expected.events.map(\.revision).filter { $0 <= own })
        }
    }

    @Test("a caller who loses the right mid-stream is refused at the next change, told where to resume")
    func revokedMidStream() async throws {
        try await TestServer.with { server in
            let client = server.client()
            let fixture = try await ServerFixture.build(client)
            let head = server.portico.snapshot.revision
            let admin = server.client(credential: fixture.adminToken, timeout: nil)
            let reader = Task {
                do {
                    for try await _ in admin.watch(WatchRequest(afterRevision: head, portfolioID: fixture.portfolio)) {}
                    return PorticoStatusError(code: .ok, message: "ended without a status")
                } catch let error as PorticoStatusError {
                    return error
                }
            }
            #expect(try await eventually { server.portico.revisionWaiters == 1 })
            let tokens = try await client.listTokens(.init(systemUserID: fixture.admin))
            let revoked = try await client.revokeToken(.init(tokenID: try #require(tokens.tokens.first).id))
            let status = try await reader.value
            #expect(status.code == .unauthenticated, "\(status)")
            #expect(status.detail?.resumeRevision == head, "\(status)")
            #expect(revoked.revision == head + 1)
            #expect(
                try await eventually {
                    server.server.statistics.callsInFlight == 0 && server.portico.revisionWaiters == 0
                })
        }
    }

    @Test("cancelling a stream frees its place and its waiter; its id may be used again at once")
    func cancelFrees() async throws {
        try await TestServer.with { server in
            let client = server.client()
            _ = try await Self.write(client, 3)
            let watcher = server.client(timeout: nil)
            let reader = Task {
                var count = 0
                for try await _ in watcher.watch(WatchRequest(afterRevision: 0)) { count += 1 }
                return count
            }
            // Caught up and waiting: one call in flight, one waiter for the next revision.
            #expect(
                try await eventually {
                    server.server.statistics.callsInFlight == 1 && server.portico.revisionWaiters == 1
                })
            reader.cancel()
            _ = await reader.result
            #expect(
                try await eventually {
                    server.server.statistics.callsInFlight == 0 && server.portico.revisionWaiters == 0
                })

            // Over raw frames: CANCEL ends the stream without a final frame, and a ping on the same id
            // right after is answered as the ping it is.
            let raw = try await WireClient.connect(port: server.port)
            try await raw.send(
                WirePreface.bytes
                    + Wire.request(7, .watch, credential: server.operatorKey, body: WatchRequest(afterRevision: 0)))
            try await raw.wait { $0.count >= 3 }
            try await raw.send(try Self.cancel(7) + Wire.ping(7))
            let (frames, _) = try await raw.wait { $0.contains { $0.header.kind == .response } }
            let answers = frames.filter { $0.header.kind == .response }
            #expect(answers.count == 1 && answers[0].header.callID == 7 && answers[0].header.statusCode == .ok)
            let items = frames.filter { $0.header.kind == .streamItem }
            #expect(items.count == 3, "\(frames.map(\.header))")
            #expect(
                try await eventually {
                    server.server.statistics.callsInFlight == 0 && server.portico.revisionWaiters == 0
                })
            await raw.close()
        }
    }

    @Test("streams count as calls in flight: a connection cannot open more than its limit")
    func streamsCounted() async throws {
        var configuration = ServerConfiguration(port: 0)
        configuration.maxCallsInFlightPerConnection = 2
        try await TestServer.with(configuration: configuration) { server in
            let raw = try await WireClient.connect(port: server.port)
            var bytes = WirePreface.bytes
            for id in 1...3 as ClosedRange<UInt64> {
                bytes += try Wire.request(id, .watch, credential: server.operatorKey, body: WatchRequest())
            }
            try await raw.send(bytes)
            let (frames, _) = try await raw.wait { $0.contains { $0.header.kind == .response } }
            let refused = try #require(frames.first { $0.header.kind == .response })
            #expect(refused.header.callID == 3)
            #expect(refused.header.statusCode == .resourceExhausted)
            #expect(refused.header.errorDetail?.reason == "TOO_MANY_CALLS")
            #expect(server.server.statistics.callsInFlight == 2)
            await raw.close()
            #expect(
                try await eventually {
                    server.server.statistics.callsInFlight == 0 && server.portico.revisionWaiters == 0
                })
        }
    }

    @Test("a draining server ends every stream with UNAVAILABLE and the revision to resume from")
    func drainEndsStreams() async throws {
        try await TestServer.with { server in
            let client = server.client()
            let head = try await Self.write(client, 5)
            let watcher = server.client(timeout: nil)
            let reader = Task {
                var last: UInt64 = 0
                do {
                    for try await event in watcher.watch(WatchRequest(afterRevision: 2)) {
                        last = event.event?.revision ?? 0
                    }
                    return (last, PorticoStatusError(code: .ok, message: "ended without a status"))
                } catch let error as PorticoStatusError {
                    return (last, error)
                }
            }
            #expect(try await eventually { server.portico.revisionWaiters == 1 })
            server.beginShutdown()
            let (last, status) = try await reader.value
            #expect(last == head)
            #expect(status.code == .unavailable && status.detail?.reason == "GOING_AWAY", "\(status)")
            #expect(status.detail?.resumeRevision == head)
        }
    }

    static func cancel(_ callID: UInt64) throws -> [UInt8] {
        var buffer = ByteBuffer()
        try Frame(header: FrameHeader(kind: .cancel, callID: callID)).write(into: &buffer, arena: WireArena())
        return Array(buffer.readableBytesView)
    }
}
