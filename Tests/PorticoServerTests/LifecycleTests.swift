import Logging
import NIOCore
import NIOEmbedded
import PorticoClient
import PorticoWire
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import PorticoTestSupport
import Testing

@testable import PorticoCore
@testable import PorticoServer

@Suite("Server lifecycle")
struct LifecycleTests {
    static var quiet: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }

    @Test("the lifecycle's moves: each phase allows only its own, others throw")
    func stateMachine() throws {
        var lifecycle = ServerLifecycle()
        #expect(lifecycle.phase == .idle)
        #expect(throws: ServerLifecycleError.self) { try lifecycle.loaded() }
        #expect(throws: ServerLifecycleError.self) { try lifecycle.stopped() }
        try lifecycle.start()
        #expect(throws: ServerLifecycleError.self) { try lifecycle.start() }  // runs once
        let listener: any Channel = EmbeddedChannel()
        #expect(try lifecycle.bound(listener, loaded: false))
        #expect(lifecycle.phase == .loading)
        #expect(throws: ServerLifecycleError.self) { try lifecycle.bound(listener, loaded: false) }
        #expect(try lifecycle.loaded())
        #expect(lifecycle.phase == .serving)
        #expect(throws: ServerLifecycleError.self) { try lifecycle.loaded() }  // loads once
        #expect(lifecycle.beginDraining() === listener)
        #expect(lifecycle.beginDraining() == nil)  // the listener is closed once
        #expect(lifecycle.phase == .draining)
        try lifecycle.stopped()
        #expect(lifecycle.phase == .stopped)
        #expect(throws: ServerLifecycleError.self) { try lifecycle.start() }
        #expect(throws: ServerLifecycleError.self) { try lifecycle.stopped() }

        // A shutdown while loading: the load's end does not reopen it.
        var loading = ServerLifecycle()
        try loading.start()
        _ = try loading.bound(listener, loaded: false)
        #expect(loading.beginDraining() === listener)
        #expect(try loading.loaded() == false)
        #expect(loading.phase == .draining)
        try loading.stopped()
        #expect(try loading.loaded() == false)
        #expect(loading.phase == .stopped)
    }

    @Test("while loading, every call is UNAVAILABLE LOADING but GetServerInfo (revision 0); then it serves")
    func answersWhileLoading() async throws {
        let held = Gate()
        let key = OperatorKey.generate()
        let server = PorticoServer(
            configuration: ServerConfiguration(host: "127.0.0.1", port: 0), operatorKey: key, logger: Self.quiet
        ) {
            await held.wait()
            let portico = try await Portico.open(store: InMemoryChangeStore(), clock: ManualClock())
            try await portico.execute(.createPortfolio(name: "loaded", tier: .standard), as: .operator)
            return portico
        }
        let running = Task { try await server.run() }
        let port = try await server.localAddress.port!
        #expect(server.phase == .loading)
        let client = PorticoClient(configuration: ClientConfiguration(host: "127.0.0.1", port: port, credential: key))
        // A connection opened while loading: the same connection is served once loaded.
        await expectStatus(.unavailable, reason: "LOADING") { try await client.ping() }
        await expectStatus(.unavailable, reason: "LOADING") { try await client.createPortfolio(.init(name: "early")) }
        let info = try await client.getServerInfo()
        #expect(info.revision == 0 && info.maxFrameBytes == UInt32(Frame.defaultMaxBytes))
        held.open()
        try await server.waitUntilReady()
        #expect(server.phase == .serving)
        _ = try await client.ping()
        #expect(try await client.getServerInfo().revision == 1)
        #expect(try await client.createPortfolio(.init(name: "after")).revision == 2)
        await client.close()
        running.cancel()
        try await running.value
        #expect(server.phase == .stopped)
    }

    @Test("a load that fails: run() throws its error, readiness too, and the server stops listening")
    func failedLoad() async throws {
        struct Broken: Error {}
        let server = PorticoServer(
            configuration: ServerConfiguration(host: "127.0.0.1", port: 0),
            operatorKey: OperatorKey.generate(),
            logger: Self.quiet
        ) { throw Broken() }
        await #expect(throws: Broken.self) { try await server.run() }
        await #expect(throws: Broken.self) { try await server.waitUntilReady() }
        #expect(server.phase == .stopped)
        // A server runs once.
        await #expect(throws: ServerLifecycleError.self) { try await server.run() }
    }

    @Test("a shutdown while loading: connections get GOAWAY, run() returns once the load has ended")
    func shutdownWhileLoading() async throws {
        let held = Gate()
        let server = PorticoServer(
            configuration: ServerConfiguration(host: "127.0.0.1", port: 0),
            operatorKey: OperatorKey.generate(),
            logger: Self.quiet
        ) {
            await held.wait()
            return try await Portico.open(store: InMemoryChangeStore())
        }
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                let port = try await server.localAddress.port!
                let client = try await WireClient.connect(port: port)
                try await client.send(WirePreface.bytes + Wire.ping(1))
                _ = try await client.wait { $0.count >= 1 }
                trigger.triggerGracefulShutdown()
                let (frames, closed) = try await client.wait(limit: .seconds(10))
                #expect(closed)
                #expect(frames.last?.header.kind == .goaway && frames.last?.header.statusCode == .unavailable)
                #expect(server.phase == .draining || server.phase == .stopped)
                held.open()
                try await group.next()
                #expect(server.phase == .stopped)
                await #expect(throws: ServerLifecycleError.self) { try await server.waitUntilReady() }
            }
        }
    }
}
