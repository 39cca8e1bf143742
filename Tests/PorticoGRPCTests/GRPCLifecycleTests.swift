import GRPCCore
import Logging
import NIOCore
import NIOPosix
import PorticoCore
import PorticoGRPC
import PorticoServer
import PorticoTestSupport
import PorticoWire
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing

/// The endpoint's lifecycle: health, graceful shutdown (GOAWAY, calls in flight finish, NOT_SERVING
/// first), the grace period's end, and moves the lifecycle does not allow.
@Suite("gRPC endpoint: lifecycle and health")
struct GRPCLifecycleTests {
    /// An endpoint over a fresh core, not started.
    static func endpoint(
        store: any ChangeStore = InMemoryChangeStore(),
        grpc: GRPCConfiguration = GRPCConfiguration(port: 0)
    ) async throws -> (PorticoGRPCServer, key: String) {
        let portico = try await Portico.open(store: store, clock: ManualClock())
        var logger = Logger(label: "portico.grpc.test")
        logger.logLevel = .critical
        let key = OperatorKey.generate()
        let handlers = PorticoHandlers(portico: portico, operatorKey: key, configuration: ServerConfiguration(port: 0))
        var grpc = grpc
        grpc.host = "127.0.0.1"
        return (PorticoGRPCServer(configuration: grpc, handlers: handlers, logger: logger), key)
    }

    @Test("health: the server and portico.v1.Portico are SERVING; an unknown service is NOT_FOUND")
    func healthCheck() async throws {
        try await GRPCTestEndpoint.with { endpoint in
            try await endpoint.withClient { client in
                for service in ["", "portico.v1.Portico"] {
                    let answer = try await client.health(service)
                    #expect(answer.status == .serving, "\(service)")
                }
                await expectRPCError(.notFound) { try await client.health("no.such.Service") }
            }
        }
    }

    @Test("graceful shutdown: NOT_SERVING to watchers, GOAWAY, the write in flight is answered, run() returns")
    func gracefulShutdown() async throws {
        let store = GatedStore(closed: true)
        let (server, key) = try await Self.endpoint(store: store)
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                let port = try await server.localAddress.port!
                #expect(server.phase == .serving)
                try await GRPCTestEndpoint.withClient(port: port) { client in
                    let (started, signal) = AsyncStream<Void>.makeStream()
                    let watching = Task { try await client.watchHealth(until: .notServing, started: signal) }
                    for await _ in started { break }
                    let write = Task {
                        try await client.call(
                            PorticoService.CreatePortfolio.self, CreatePortfolioRequest(name: "in flight"),
                            credential: key)
                    }
                    await store.waitForArrivals(1)
                    trigger.triggerGracefulShutdown()
                    // Watchers hear NOT_SERVING before the connections drain.
                    #expect(try await watching.value == [.serving, .notServing])
                    #expect(server.phase == .draining)
                    store.open()
                    let created = try await write.value
                    #expect(created.portfolio?.name == "in flight")
                }
                try await group.next()
                #expect(server.phase == .stopped)
                #expect(server.connectionCount == 0)
                // Nothing listens any more.
                await #expect(throws: (any Error).self) {
                    try await GRPCTestEndpoint.withClient(port: port) { client in
                        try await client.call(PorticoService.Ping.self, PingRequest(), timeout: .seconds(2))
                    }
                }
            }
        }
    }

    @Test("a call still running when the grace period ends has its connection closed, and run() returns")
    func gracePeriodEnds() async throws {
        let store = GatedStore(closed: true)
        let (server, key) = try await Self.endpoint(
            store: store, grpc: GRPCConfiguration(port: 0, shutdownGracePeriod: .milliseconds(200)))
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                let port = try await server.localAddress.port!
                try await GRPCTestEndpoint.withClient(port: port) { client in
                    let write = Task {
                        try await client.call(
                            PorticoService.CreatePortfolio.self, CreatePortfolioRequest(name: "stuck"), credential: key)
                    }
                    await store.waitForArrivals(1)
                    trigger.triggerGracefulShutdown()
                    try await group.next()
                    #expect(server.phase == .stopped)
                    await #expect(throws: (any Error).self) { try await write.value }
                }
                store.open()
            }
        }
    }

    @Test("while the server loads its core, calls are UNAVAILABLE (LOADING) and GetServerInfo says revision 0")
    func loading() async throws {
        let (released, release) = AsyncStream<Void>.makeStream()
        var logger = Logger(label: "portico.grpc.test")
        logger.logLevel = .critical
        let key = OperatorKey.generate()
        let server = PorticoServer(configuration: ServerConfiguration(port: 0), operatorKey: key, logger: logger) {
            for await _ in released { break }
            let portico = try await Portico.open(store: InMemoryChangeStore(), clock: ManualClock())
            _ = try await portico.execute(.createPortfolio(name: "loaded", tier: .standard), as: .operator)
            return portico
        }
        let endpoint = PorticoGRPCServer(
            configuration: GRPCConfiguration(port: 0), handlers: server.handlers, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            group.addTask { try await endpoint.run() }
            let port = try await endpoint.localAddress.port!
            try await GRPCTestEndpoint.withClient(port: port) { client in
                await expectRPCError(.unavailable, reason: "LOADING") {
                    try await client.call(PorticoService.Ping.self, PingRequest())
                }
                await expectRPCError(.unavailable, reason: "LOADING") {
                    try await client.call(
                        PorticoService.ListPortfolios.self, ListPortfoliosRequest(), credential: key)
                }
                let info = try await client.call(PorticoService.GetServerInfo.self, GetServerInfoRequest())
                #expect(info.revision == 0)
                #expect(info.maxFrameBytes > 0)
                release.yield()
                try await server.waitUntilReady()
                let listed = try await client.call(
                    PorticoService.ListPortfolios.self, ListPortfoliosRequest(), credential: key)
                #expect(listed.portfolios.map(\.name) == ["loaded"])
                #expect(try await client.call(PorticoService.GetServerInfo.self, GetServerInfoRequest()).revision == 1)
            }
            group.cancelAll()
        }
    }

    @Test("run() twice is refused; a port in use fails run() and localAddress alike")
    func lifecycleMoves() async throws {
        let (first, _) = try await Self.endpoint()
        let running = Task { try await first.run() }
        let port = try await first.localAddress.port!
        await #expect(throws: GRPCServerLifecycleError.self) { try await first.run() }

        let (second, _) = try await Self.endpoint(grpc: GRPCConfiguration(port: port))
        await #expect(throws: (any Error).self) { try await second.run() }
        await #expect(throws: (any Error).self) { try await second.localAddress }
        #expect(second.phase == .stopped)
        running.cancel()
        _ = await running.result
        #expect(first.phase == .stopped)
    }
}

extension GRPCClient {
    /// grpc.health.v1.Health/Check.
    func health(_ service: String) async throws -> HealthCheckResponse {
        try await self.unary(
            request: ClientRequest(message: HealthCheckRequest(service: service)),
            descriptor: MethodDescriptor(fullyQualifiedService: "grpc.health.v1.Health", method: "Check"),
            serializer: WireSerializer<HealthCheckRequest>(),
            deserializer: WireDeserializer<HealthCheckResponse>(),
            options: .defaults
        ) { try $0.message }
    }

    /// grpc.health.v1.Health/Watch of the whole server: the statuses seen until `last` (included);
    /// `started` hears of the first.
    func watchHealth(
        until last: HealthCheckResponse.ServingStatus,
        started: AsyncStream<Void>.Continuation
    ) async throws -> [HealthCheckResponse.ServingStatus] {
        try await self.serverStreaming(
            request: ClientRequest(message: HealthCheckRequest(service: "")),
            descriptor: MethodDescriptor(fullyQualifiedService: "grpc.health.v1.Health", method: "Watch"),
            serializer: WireSerializer<HealthCheckRequest>(),
            deserializer: WireDeserializer<HealthCheckResponse>(),
            options: .defaults
        ) { response in
            var seen: [HealthCheckResponse.ServingStatus] = []
            for try await message in response.messages {
                seen.append(message.status)
                started.yield()
                if message.status == last { break }
            }
            return seen
        }
    }
}
