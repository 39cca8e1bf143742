import Logging
import NIOCore
import NIOPosix
import PorticoClient
import PorticoCore
import PorticoServer
import PorticoWire
import Testing

/// A live server on 127.0.0.1 with an ephemeral port, an in-process core and a manual clock.
final class TestServer: Sendable {
    let server: PorticoServer
    let portico: Portico
    let clock: ManualClock
    let operatorKey = OperatorKey.generate()
    let port: Int
    private let task: Task<Void, any Error>

    /// Starts a server; `store` lets a test slow down or fail durable writes.
    static func start(
        configuration: ServerConfiguration = ServerConfiguration(port: 0),
        store: any ChangeStore = InMemoryChangeStore(),
        logger: Logger? = nil
    ) async throws -> TestServer {
        let clock = ManualClock()
        let portico = try await Portico.open(store: store, clock: clock)
        var configuration = configuration
        configuration.host = "127.0.0.1"
        configuration.port = 0
        return try await TestServer(configuration: configuration, portico: portico, clock: clock, logger: logger)
    }

    private init(
        configuration: ServerConfiguration,
        portico: Portico,
        clock: ManualClock,
        logger: Logger?
    ) async throws {
        var quiet = Logger(label: "portico.test")
        quiet.logLevel = .critical
        let logger = logger ?? quiet
        let server = PorticoServer(configuration: configuration, portico: portico, operatorKey: self.operatorKey, logger: logger)
        self.server = server
        self.portico = portico
        self.clock = clock
        self.task = Task { try await server.run() }
        self.port = try await server.localAddress.port!
    }

    /// A client with `credential` (the operator key by default).
    func client(credential: String? = nil, connections: Int = 1, timeout: Duration? = .seconds(20)) -> PorticoClient {
        PorticoClient(
            configuration: ClientConfiguration(
                host: "127.0.0.1",
                port: self.port,
                credential: credential ?? self.operatorKey,
                connections: connections,
                defaultTimeout: timeout
            )
        )
    }

    /// Stops the server as SIGTERM would (graceful), and waits for it to return.
    func stop() async {
        self.task.cancel()
        _ = await self.task.result
    }
}

/// A small portfolio built through the API: an admin system user with a token, an ad account, and a
/// regular system user assigned ADVERTISE on it.
struct Fixture {
    let portfolio: UInt64
    let app: UInt64
    let admin: UInt64
    let adminToken: String
    let adAccount: UInt64
    let worker: UInt64
    let workerToken: String

    static func build(_ client: PorticoClient) async throws -> Fixture {
        let portfolio = try await client.createPortfolio(.init(name: "Acme", systemUserTier: .advanced)).portfolio!.id
        let app = try await client.addApp(.init(portfolioID: portfolio, name: "CRM")).app!.id
        let admin = try await client.createSystemUser(.init(portfolioID: portfolio, name: "ops", role: .admin)).systemUser!.id
        let adminToken = try await client.generateToken(
            .init(systemUserID: admin, appID: app, scopes: [.businessManagement, .adsManagement])
        ).secret
        let asAdmin = CallOptions(credential: adminToken)
        let adAccount = try await client.addAsset(.init(portfolioID: portfolio, type: .adAccount, name: "ads"), options: asAdmin).asset!.id
        let worker = try await client.createSystemUser(.init(portfolioID: portfolio, name: "bot", role: .employee), options: asAdmin)
            .systemUser!.id
        _ = try await client.assignTasks(
            .init(principal: Principal(kind: .systemUser, id: worker), assetID: adAccount, tasks: [.advertise]),
            options: asAdmin
        )
        let workerToken = try await client.generateToken(.init(systemUserID: worker, appID: app, scopes: [.adsRead]), options: asAdmin)
            .secret
        return Fixture(
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

/// Expects `body` to fail with `code`.
func expectStatus<T>(_ code: StatusCode, reason: String? = nil, _ body: () async throws -> T) async {
    do {
        _ = try await body()
        Issue.record("expected \(code.protoValueName)")
    } catch let error as PorticoStatusError {
        #expect(error.code == code, "\(error)")
        if let reason { #expect(error.detail?.reason == reason, "\(error)") }
    } catch {
        Issue.record("unexpected \(error)")
    }
}
