import Logging
import NIOCore
import PorticoClient
import PorticoServer
import PorticoTestSupport
import PorticoWire
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing

@testable import PorticoCore

/// A store whose appends take a while, so that writes are in flight long enough to be caught.
final class SlowStore: ChangeStore {
    private let inner = InMemoryChangeStore()
    let delay: Duration

    init(delay: Duration) { self.delay = delay }

    func append(_ batch: [Change]) async throws {
        try? await Task.sleep(for: self.delay)
        try await self.inner.append(batch)
    }

    func load() async throws -> [Change] { try await self.inner.load() }
}

@Suite("Server behaviour over loopback")
struct ServerBehaviourTests {
    @Test("10,000 concurrent calls on a few connections all get their own answers")
    func multiplexing() async throws {
        try await TestServer.with { server in
            let setup = server.client()
            let fixture = try await ServerFixture.build(setup)
            // Assets 0..<50 of alternating types; even ones assigned to the worker.
            var assets: [UInt64] = []
            for index in 0..<50 {
                let asset = try await setup.addAsset(
                    .init(portfolioID: fixture.portfolio, type: .adAccount, name: "a\(index)")
                ).asset!.id
                if index % 2 == 0 {
                    _ = try await setup.assignTasks(
                        .init(
                            principal: Principal(kind: .systemUser, id: fixture.worker), assetID: asset,
                            tasks: [.analyze])
                    )
                }
                assets.append(asset)
            }
            let client = server.client(connections: 3)
            let assetIDs = assets
            let results = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
                for call in 0..<10_000 {
                    group.addTask {
                        let index = call % assetIDs.count
                        let answer = try await client.checkPermission(
                            .init(assetID: assetIDs[index], task: .analyze, subject: .systemUserID(fixture.worker))
                        )
                        return (index, answer.allowed)
                    }
                }
                var results: [(Int, Bool)] = []
                for try await result in group { results.append(result) }
                return results
            }
            #expect(results.count == 10_000)
            #expect(results.allSatisfy { index, allowed in allowed == (index % 2 == 0) })
        }
    }

    @Test("graceful shutdown: calls in flight complete; new calls are refused with UNAVAILABLE")
    func gracefulShutdown() async throws {
        let clock = ManualClock()
        let portico = try await Portico.open(store: SlowStore(delay: .milliseconds(300)), clock: clock)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let key = OperatorKey.generate()
        let server = PorticoServer(
            configuration: ServerConfiguration(host: "127.0.0.1", port: 0), portico: portico, operatorKey: key,
            logger: logger)
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                let port = try await server.localAddress.port!
                let client = PorticoClient(
                    configuration: ClientConfiguration(host: "127.0.0.1", port: port, credential: key))
                _ = try await client.ping()
                // Writes that take 300 ms each in the store are in flight when the shutdown begins.
                let writes = Task {
                    try await withThrowingTaskGroup(of: UInt64.self) { writes in
                        for index in 0..<10 {
                            writes.addTask { try await client.createPortfolio(.init(name: "p\(index)")).revision }
                        }
                        var revisions: [UInt64] = []
                        for try await revision in writes { revisions.append(revision) }
                        return revisions
                    }
                }
                // Shut down once all ten are accepted by the core (the first is still in the store).
                for _ in 0..<500 where portico.pendingRevision < 10 { try await Task.sleep(for: .milliseconds(10)) }
                #expect(portico.pendingRevision == 10)
                #expect(portico.snapshot.revision < 10)
                trigger.triggerGracefulShutdown()
                let revisions = try await writes.value
                #expect(revisions.count == 10)
                #expect(Set(revisions).count == 10)
                // The server has stopped taking calls: a new one fails as UNAVAILABLE.
                await expectStatus(.unavailable) { try await client.ping() }
                try await group.next()
                #expect(portico.snapshot.revision == 10)
                await client.close()
            }
        }
    }

    @Test("a write whose deadline passes is answered DEADLINE_EXCEEDED")
    func deadline() async throws {
        try await TestServer.with(store: SlowStore(delay: .milliseconds(500))) { server in
            let client = server.client()
            await expectStatus(.deadlineExceeded) {
                try await client.createPortfolio(.init(name: "slow"), options: CallOptions(timeout: .milliseconds(50)))
            }
            // The connection still serves calls afterwards.
            _ = try await client.ping()
        }
    }

    @Test("limits: connections over the limit are refused; calls in flight over the limit get RESOURCE_EXHAUSTED")
    func limits() async throws {
        try await TestServer.with(
            configuration: ServerConfiguration(maxConnections: 1, maxCallsInFlightPerConnection: 2),
            store: SlowStore(delay: .milliseconds(200))
        ) { server in
            let first = server.client()
            _ = try await first.ping()
            // Over the connection limit: GOAWAY with RESOURCE_EXHAUSTED, and the client's call cannot run.
            let (reply, closed) = try await RawConnection.connect(port: server.port).exchange(WirePreface.bytes)
            #expect(closed)
            #expect(try frames(in: reply).first?.header.statusCode == .resourceExhausted)
            let second = server.client()
            await expectStatus(.unavailable) { try await second.ping() }

            let outcomes = await withTaskGroup(of: StatusCode.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        do {
                            _ = try await first.createPortfolio(.init(name: "p\(index)"))
                            return .ok
                        } catch let error as PorticoStatusError {
                            return error.code
                        } catch {
                            return .unknown
                        }
                    }
                }
                var codes: [StatusCode] = []
                for await code in group { codes.append(code) }
                return codes
            }
            #expect(outcomes.contains(.resourceExhausted))
            #expect(outcomes.contains(.ok))
            #expect(outcomes.allSatisfy { $0 == .ok || $0 == .resourceExhausted })
        }
    }

    @Test("a frame over the server's limit: GOAWAY RESOURCE_EXHAUSTED and the connection closes")
    func oversizedFrame() async throws {
        try await TestServer.with(configuration: ServerConfiguration(maxFrameBytes: 4096)) { server in
            let big = try requestBytes(
                callID: 1,
                method: UInt32(Method.createPortfolio.rawValue),
                credential: server.operatorKey,
                body: CreatePortfolioRequest(name: String(repeating: "x", count: 10_000))
            )
            let (reply, closed) = try await RawConnection.connect(port: server.port).exchange(WirePreface.bytes + big)
            #expect(closed)
            #expect(try frames(in: reply).first?.header.statusCode == .resourceExhausted)
        }
    }
}
