public import Logging
public import NIOCore
public import NIOPosix
public import PorticoCore
public import ServiceLifecycle
import PorticoWire

/// The Portico server: serves every RPC of proto/portico/v1 over TCP, as a `Service` of
/// swift-service-lifecycle.
///
/// `run()` listens until graceful shutdown (SIGTERM/SIGINT through a `ServiceGroup`, or task
/// cancellation); then it stops accepting, sends GOAWAY on every connection, lets the calls in flight
/// finish within the grace period, closes what remains and returns.
public final class PorticoServer: Service, Sendable {
    private let configuration: ServerConfiguration
    let dispatcher: Dispatcher
    private let group: any EventLoopGroup
    private let logger: Logger
    private let registry = ConnectionRegistry()
    private let listening: EventLoopPromise<SocketAddress>

    /// - Parameters:
    ///   - portico: the core the server answers from.
    ///   - operatorKey: the operator's secret; only its SHA-256 is kept.
    public init(
        configuration: ServerConfiguration,
        portico: Portico,
        operatorKey: String,
        logger: Logger = Logger(label: "portico.server"),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.dispatcher = Dispatcher(
            portico: portico,
            operatorKey: SecretDigest(of: operatorKey),
            configuration: configuration
        )
        self.group = eventLoopGroup
        self.logger = logger
        self.listening = eventLoopGroup.any().makePromise(of: SocketAddress.self)
    }

    /// The address the server listens on, once it does (with port 0, the port the system chose).
    /// - Throws: the bind error if the server could not listen.
    public var localAddress: SocketAddress {
        get async throws { try await self.listening.futureResult.get() }
    }

    /// The number of connections open now.
    public var connectionCount: Int { self.registry.count }

    public func run() async throws {
        let channel: any Channel
        do {
            channel = try await self.bind()
        } catch {
            self.listening.fail(error)
            throw error
        }
        let address = channel.localAddress!
        self.listening.succeed(address)
        self.logger.info("listening", metadata: ["address": "\(address)"])

        try await withTaskCancellationOrGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)
        }
        await self.drain()
    }

    private func bind() async throws -> any Channel {
        let configuration = self.configuration
        let dispatcher = self.dispatcher
        let registry = self.registry
        let logger = self.logger
        return try await ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handlers = channel.pipeline.syncOperations
                    guard registry.register(channel, limit: configuration.maxConnections) else {
                        logger.notice("connection refused: limit reached", metadata: ["limit": "\(configuration.maxConnections)"])
                        try handlers.addHandler(RefuseConnectionHandler(limit: configuration.maxConnections))
                        return
                    }
                    try handlers.addHandler(BackPressureHandler())
                    try handlers.addHandler(
                        IdleStateHandler(readTimeout: .nanoseconds(configuration.idleTimeout.nanoseconds))
                    )
                    try handlers.addHandler(
                        ConnectionHandler(dispatcher: dispatcher, configuration: configuration, logger: logger)
                    )
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
    }

    /// Lets every connection answer its calls in flight, within the grace period, then closes the rest.
    private func drain() async {
        self.logger.info("shutting down", metadata: ["connections": "\(self.registry.count)"])
        self.registry.announceShutdown()
        let clock = ContinuousClock()
        let deadline = clock.now + self.configuration.shutdownGracePeriod
        while self.registry.count > 0 && clock.now < deadline {
            // Not Task.sleep: the task may be cancelled already, and a cancelled sleep returns at once.
            try? await self.group.any().scheduleTask(in: .milliseconds(10)) {}.futureResult.get()
        }
        if self.registry.count > 0 {
            self.logger.warning("grace period over: closing connections", metadata: ["connections": "\(self.registry.count)"])
            self.registry.closeAll()
        }
        self.logger.info("stopped")
    }
}
