public import Logging
public import NIOCore
import NIOHTTP1
public import NIOPosix
public import ServiceLifecycle
import Synchronization

/// The operations listener: HTTP/1.1 on its own address, for Prometheus and for the supervisor.
///
/// - `GET /metrics`: the server's metrics in Prometheus's text format (``ServerMetrics``).
/// - `GET /healthz`: 200 while the process runs (this answer is the proof).
/// - `GET /readyz`: 200 while the server serves: loaded and accepting, not draining; 503 otherwise,
///   with the phase in the body.
///
/// A `Service`: listed before the server in a `ServiceGroup`, it is shut down after it (the group shuts
/// down in reverse order), so `/readyz` answers 503 for the whole of the server's drain.
public final class OperationsEndpoint: Service, Sendable {
    /// Connections this listener keeps at once; more are closed at once. A scraper and a probe or two
    /// need a handful.
    static let maxConnections = 32
    /// A connection with no request for this long is closed.
    static let idleTimeout = TimeAmount.seconds(60)

    public let host: String
    public let port: Int
    let server: PorticoServer
    let metrics: ServerMetrics
    let logger: Logger
    let group: any EventLoopGroup
    let connections = Atomic<Int>(0)
    private let listening: EventLoopPromise<SocketAddress>

    /// - Parameters:
    ///   - host: where to listen; loopback unless the metrics are meant to leave the machine.
    ///   - port: the TCP port; 0 lets the system choose (see ``localAddress``).
    ///   - server: the server whose readiness `/readyz` reports.
    ///   - metrics: what `/metrics` serves; the same object the server was given.
    public init(
        host: String,
        port: Int,
        server: PorticoServer,
        metrics: ServerMetrics,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.host = host
        self.port = port
        self.server = server
        self.metrics = metrics
        self.logger = logger
        self.group = eventLoopGroup
        self.listening = eventLoopGroup.any().makePromise(of: SocketAddress.self)
    }

    deinit {
        self.listening.fail(CancellationError())
    }

    /// The address it listens on, once it does. - Throws: the bind error.
    public var localAddress: SocketAddress {
        get async throws { try await self.listening.futureResult.get() }
    }

    public func run() async throws {
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: self.group)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { [self] channel in
                    channel.eventLoop.makeCompletedFuture { try self.initialize(channel) }
                }
                .bind(host: self.host, port: self.port)
                .get()
        } catch {
            self.listening.fail(error)
            throw error
        }
        let address = channel.localAddress!
        self.listening.succeed(address)
        self.logger.info("operations endpoint listening", metadata: ["address": "\(address)"])
        try? await withTaskCancellationOrGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)
        }
    }

    private func initialize(_ channel: any Channel) throws {
        let pipeline = channel.pipeline.syncOperations
        guard self.connections.wrappingAdd(1, ordering: .relaxed).newValue <= Self.maxConnections else {
            self.connections.wrappingSubtract(1, ordering: .relaxed)
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [self] _ in self.connections.wrappingSubtract(1, ordering: .relaxed) }
        try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
        try pipeline.addHandler(IdleStateHandler(readTimeout: Self.idleTimeout))
        try pipeline.addHandler(OperationsHTTPHandler(endpoint: self))
    }

    /// The answer to one request: status, content type and body.
    func respond(method: HTTPMethod, path: Substring) async -> (HTTPResponseStatus, String, String) {
        guard method == .GET || method == .HEAD else {
            return (.methodNotAllowed, "text/plain; charset=utf-8", "only GET and HEAD\n")
        }
        switch path {
        case "/metrics":
            let text = await self.metrics.scrape(self.server)
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", text)
        case "/healthz":
            return (.ok, "text/plain; charset=utf-8", "ok\n")
        case "/readyz":
            let phase = self.server.phase
            return phase == .serving
                ? (.ok, "text/plain; charset=utf-8", "ready\n")
                : (.serviceUnavailable, "text/plain; charset=utf-8", "\(phase)\n")
        default:
            return (.notFound, "text/plain; charset=utf-8", "not found: /metrics, /healthz, /readyz\n")
        }
    }
}
