public import Logging
public import NIOCore
public import NIOPosix
public import PorticoClient
public import PorticoCore
public import PorticoServer
public import PorticoWire
import Synchronization
public import Testing

/// A live server on 127.0.0.1 with an ephemeral port, an in-process core and a manual clock.
///
/// Use it through ``with(configuration:store:_:)``, which stops the server and closes every client it
/// made however the test body ends.
public final class TestServer: Sendable {
    public let server: PorticoServer
    public let portico: Portico
    public let clock: ManualClock
    public let operatorKey = OperatorKey.generate()
    public let port: Int
    private let task: Task<Void, any Error>
    private let clients = Mutex<[PorticoClient]>([])

    /// Runs `body` with a fresh server, then stops it (gracefully, as SIGTERM would) and closes the
    /// clients made by ``client(credential:connections:timeout:)``, whether `body` returned or threw.
    /// - Parameters:
    ///   - store: lets a test slow down or fail durable writes.
    ///   - logger: the server's logger (tests of what it logs); by default one that says nothing.
    ///   - metrics: where the server counts its calls (tests of its metrics); by default it counts none.
    ///   - eventLoopGroup: the server's event loops; a test that blocks them gives it a group of its own.
    public static func with<Value>(
        configuration: ServerConfiguration = ServerConfiguration(port: 0),
        store: any ChangeStore = InMemoryChangeStore(),
        tls: TLSFiles? = nil,
        logger: Logger? = nil,
        metrics: ServerMetrics? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        _ body: (TestServer) async throws -> Value
    ) async throws -> Value {
        let server = try await Self.start(
            configuration: configuration, store: store, tls: tls, logger: logger, metrics: metrics,
            eventLoopGroup: eventLoopGroup)
        let result: Result<Value, any Error>
        do {
            result = .success(try await body(server))
        } catch {
            result = .failure(error)
        }
        await server.stop()
        return try result.get()
    }

    private static func start(
        configuration: ServerConfiguration,
        store: any ChangeStore,
        tls: TLSFiles?,
        logger: Logger?,
        metrics: ServerMetrics?,
        eventLoopGroup: any EventLoopGroup
    ) async throws -> TestServer {
        let clock = ManualClock()
        let portico = try await Portico.open(store: store, clock: clock)
        var configuration = configuration
        configuration.host = "127.0.0.1"
        configuration.port = 0
        return try await TestServer(
            configuration: configuration, portico: portico, clock: clock, tls: tls, logger: logger, metrics: metrics,
            eventLoopGroup: eventLoopGroup)
    }

    private init(
        configuration: ServerConfiguration,
        portico: Portico,
        clock: ManualClock,
        tls: TLSFiles?,
        logger: Logger?,
        metrics: ServerMetrics?,
        eventLoopGroup: any EventLoopGroup
    ) async throws {
        var quiet = Logger(label: "portico.test")
        quiet.logLevel = .critical
        let logger = logger ?? quiet
        let server = PorticoServer(
            configuration: configuration,
            portico: portico,
            operatorKey: self.operatorKey,
            tls: tls,
            logger: logger,
            metrics: metrics,
            eventLoopGroup: eventLoopGroup
        )
        self.server = server
        self.portico = portico
        self.clock = clock
        let task = Task { try await server.run() }
        self.task = task
        do {
            self.port = try await server.localAddress.port!
        } catch {
            task.cancel()
            throw error
        }
    }

    /// A client with `credential` (the operator key by default), closed when the server stops.
    /// - Parameter tls: to a server started with TLS.
    public func client(
        credential: String? = nil,
        connections: Int = 1,
        timeout: Duration? = .seconds(20),
        tls: ClientTLS? = nil
    ) -> PorticoClient {
        let client = PorticoClient(
            configuration: ClientConfiguration(
                host: "127.0.0.1",
                port: self.port,
                credential: credential ?? self.operatorKey,
                connections: connections,
                defaultTimeout: timeout,
                tls: tls
            )
        )
        self.clients.withLock { $0.append(client) }
        return client
    }

    /// Begins a graceful shutdown (as SIGTERM would) without waiting for it; ``with(configuration:store:logger:_:)``
    /// still waits for the server to stop.
    public func beginShutdown() {
        self.task.cancel()
    }

    /// Closes the clients, then stops the server as SIGTERM would (graceful), and waits for it to return.
    private func stop() async {
        for client in self.clients.withLock({ $0 }) { await client.close() }
        self.task.cancel()
        _ = await self.task.result
    }
}

/// A small portfolio built through the API: an admin system user with a token, an ad account, and a
/// regular system user assigned ADVERTISE on it, with a token of its own (ads_read).
public struct ServerFixture: Sendable {
    public let portfolio: UInt64
    public let app: UInt64
    public let admin: UInt64
    public let adminToken: String
    public let adAccount: UInt64
    public let worker: UInt64
    public let workerToken: String

    public static func build(_ client: PorticoClient) async throws -> ServerFixture {
        let portfolio = try await client.createPortfolio(.init(name: "Acme", systemUserTier: .advanced)).portfolio!.id
        let app = try await client.addApp(.init(portfolioID: portfolio, name: "CRM")).app!.id
        let admin = try await client.createSystemUser(.init(portfolioID: portfolio, name: "ops", role: .admin))
            .systemUser!.id
        let adminToken = try await client.generateToken(
            .init(systemUserID: admin, appID: app, scopes: [.businessManagement, .adsManagement])
        ).secret
        let asAdmin = CallOptions(credential: adminToken)
        let adAccount = try await client.addAsset(
            .init(portfolioID: portfolio, type: .adAccount, name: "ads"),
            options: asAdmin
        ).asset!.id
        let worker = try await client.createSystemUser(
            .init(portfolioID: portfolio, name: "bot", role: .employee),
            options: asAdmin
        ).systemUser!.id
        _ = try await client.assignTasks(
            .init(principal: Principal(kind: .systemUser, id: worker), assetID: adAccount, tasks: [.advertise]),
            options: asAdmin
        )
        let workerToken = try await client.generateToken(
            .init(systemUserID: worker, appID: app, scopes: [.adsRead]),
            options: asAdmin
        ).secret
        return ServerFixture(
            portfolio: portfolio,
            app: app,
            admin: admin,
            adminToken: adminToken,
            adAccount: adAccount,
            worker: worker,
            workerToken: workerToken
        )
    }
}

/// Expects `body` to fail with `code` (and `reason`, when given).
public func expectStatus<T>(
    _ code: StatusCode,
    reason: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> T
) async {
    do {
        _ = try await body()
        Issue.record("expected \(code.protoValueName)", sourceLocation: sourceLocation)
    } catch let error as PorticoStatusError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        if let reason { #expect(error.detail?.reason == reason, "\(error)", sourceLocation: sourceLocation) }
    } catch {
        Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
    }
}
