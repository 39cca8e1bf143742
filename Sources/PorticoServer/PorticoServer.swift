public import Logging
public import NIOCore
public import NIOPosix
public import PorticoCore
public import ServiceLifecycle
import PorticoWire
import Synchronization

/// The Portico server: serves every RPC of proto/portico/v1 over TCP, as a `Service` of
/// swift-service-lifecycle.
///
/// `run()` binds first, then, if it was given a loader rather than a core, loads the core while
/// answering every call UNAVAILABLE (`LOADING`); then it serves until graceful shutdown (SIGTERM/SIGINT
/// through a `ServiceGroup`, or task cancellation). Then it stops accepting, sends GOAWAY on every
/// connection, lets the calls in flight finish within the grace period, closes what remains and
/// returns once the last connection has gone. The phases are ``ServerPhase``; a move the lifecycle
/// does not allow (running twice) throws ``ServerLifecycleError``.
public final class PorticoServer: Service, Sendable {
    let configuration: ServerConfiguration
    private let operatorKey: SecretDigest
    private let load: (@Sendable () async throws -> Portico)?
    let environment: ConnectionEnvironment
    let group: any EventLoopGroup
    let logger: Logger
    let lifecycle = Mutex(ServerLifecycle())
    private let listening: EventLoopPromise<SocketAddress>
    private let readiness: EventLoopPromise<Void>

    /// A server that answers from `portico` as soon as it listens.
    /// - Parameters:
    ///   - portico: the core the server answers from.
    ///   - operatorKey: the operator's secret; only its SHA-256 is kept.
    public convenience init(
        configuration: ServerConfiguration,
        portico: Portico,
        operatorKey: String,
        logger: Logger = Logger(label: "portico.server"),
        metrics: ServerMetrics? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.init(
            configuration: configuration,
            operatorKey: operatorKey,
            core: .given(portico),
            logger: logger,
            metrics: metrics,
            eventLoopGroup: eventLoopGroup
        )
    }

    /// A server that listens first and answers LOADING until `load` has returned its core.
    /// - Parameters:
    ///   - load: opens the core (reads the store); run by `run()` once the server listens. If it
    ///     throws, the server shuts down and `run()` throws its error.
    public convenience init(
        configuration: ServerConfiguration,
        operatorKey: String,
        logger: Logger = Logger(label: "portico.server"),
        metrics: ServerMetrics? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        load: @escaping @Sendable () async throws -> Portico
    ) {
        self.init(
            configuration: configuration,
            operatorKey: operatorKey,
            core: .loader(load),
            logger: logger,
            metrics: metrics,
            eventLoopGroup: eventLoopGroup
        )
    }

    private enum Core {
        case given(Portico)
        case loader(@Sendable () async throws -> Portico)
    }

    private init(
        configuration: ServerConfiguration,
        operatorKey: String,
        core: Core,
        logger: Logger,
        metrics: ServerMetrics?,
        eventLoopGroup: any EventLoopGroup
    ) {
        self.configuration = configuration
        self.operatorKey = SecretDigest(of: operatorKey)
        var dispatcher: Dispatcher?
        switch core {
        case .given(let portico):
            self.load = nil
            portico.observeCommits(with: CommitReporter(logger: logger, metrics: metrics))
            dispatcher = Dispatcher(portico: portico, operatorKey: self.operatorKey, configuration: configuration)
        case .loader(let load):
            self.load = load
        }
        self.environment = ConnectionEnvironment(
            configuration: configuration, dispatcher: dispatcher, logger: logger, metrics: metrics)
        self.group = eventLoopGroup
        self.logger = logger
        self.listening = eventLoopGroup.any().makePromise(of: SocketAddress.self)
        self.readiness = eventLoopGroup.any().makePromise(of: Void.self)
    }

    deinit {
        // A server dropped without running (or stopped before listening) leaves no promise pending.
        let error = ServerLifecycleError(from: self.lifecycle.withLock { $0.phase }, action: "serve any more")
        self.listening.fail(error)
        self.readiness.fail(error)
    }

    /// The address the server listens on, once it does (with port 0, the port the system chose).
    /// - Throws: the bind error if the server could not listen.
    public var localAddress: SocketAddress {
        get async throws { try await self.listening.futureResult.get() }
    }

    /// Returns once the server serves: its core has loaded.
    /// - Throws: the load's error, or ``ServerLifecycleError`` if it shut down before.
    public func waitUntilReady() async throws {
        try await self.readiness.futureResult.get()
    }

    /// The phase the server is in now.
    public var phase: ServerPhase { self.lifecycle.withLock { $0.phase } }

    /// The number of connections holding a place now (open ones, and closed ones whose calls still run).
    public var connectionCount: Int { self.environment.registry.count }

    /// Figures of what clients make the server hold now, for tests and operators.
    public var statistics: ServerStatistics {
        ServerStatistics(
            connections: self.environment.registry.count,
            connectionLimit: self.environment.registry.limit,
            callsInFlight: self.environment.calls.inFlight,
            bufferedOutputBytes: self.environment.output.bufferedBytes,
            peakBufferedOutputBytes: self.environment.output.peakBufferedBytes,
            connectionsCutForOutput: self.environment.output.connectionsCut
        )
    }

    public func run() async throws {
        try self.lifecycle.withLock { try $0.start() }
        self.fitConnectionsToFileLimit()
        let listener: any Channel
        do {
            listener = try await self.bind()
        } catch {
            self.environment.beginShutdown()
            _ = self.lifecycle.withLock { $0.beginDraining() }
            try? self.lifecycle.withLock { try $0.stopped() }
            self.listening.fail(error)
            self.readiness.fail(error)
            throw error
        }
        guard try self.lifecycle.withLock({ try $0.bound(listener, loaded: self.load == nil) }) else {
            // Shut down before it listened.
            try? await listener.close()
            let error = ServerLifecycleError(from: .draining, action: "start listening")
            self.listening.fail(error)
            self.readiness.fail(error)
            await self.drain()
            return
        }
        let address = listener.localAddress!
        self.listening.succeed(address)
        self.logger.info("listening", metadata: ["address": "\(address)"])
        if self.load == nil { self.readiness.succeed() }

        async let loading: Void = self.loadCore()
        let trimming = self.startMemoryTrim()
        try? await withTaskCancellationOrGracefulShutdownHandler {
            try await listener.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            self.beginShutdown()
        }
        // The listener is closed: by a shutdown, or by a failed load.
        self.beginShutdown()
        await self.drain()
        trimming.cancel()
        try await loading
    }

    /// Loads the core (when the server was given a loader) and opens the server to calls.
    private func loadCore() async throws {
        guard let load = self.load else { return }
        let portico: Portico
        do {
            portico = try await load()
        } catch {
            self.logger.error("cannot load the server's state", metadata: ["error": "\(error)"])
            self.readiness.fail(error)
            self.beginShutdown()
            throw error
        }
        portico.observeCommits(with: CommitReporter(logger: self.logger, metrics: self.environment.metrics))
        self.environment.gate.open(
            Dispatcher(portico: portico, operatorKey: self.operatorKey, configuration: self.configuration)
        )
        if try self.lifecycle.withLock({ try $0.loaded() }) {
            self.logger.info("ready", metadata: ["revision": "\(portico.snapshot.revision)"])
            self.readiness.succeed()
        } else {
            self.readiness.fail(ServerLifecycleError(from: .draining, action: "serve"))
        }
    }

    /// Stops accepting and tells every connection at once (once; later calls do nothing): each sends
    /// GOAWAY and drains. Done here rather than when `run()` resumes, so that no call slips in between.
    private func beginShutdown() {
        self.environment.beginShutdown()
        if let listener = self.lifecycle.withLock({ $0.beginDraining() }) {
            listener.close(promise: nil)
            self.environment.registry.announceShutdown()
        }
    }
}

/// What clients make a server hold, at one moment.
public struct ServerStatistics: Sendable, Hashable {
    /// Connection places taken: open connections, and closed ones whose calls still run.
    public var connections: Int
    /// The connection limit in force (the configured one, or lower if the process may open fewer files).
    public var connectionLimit: Int
    /// Calls whose work has left the event loop and not finished (answered or not).
    public var callsInFlight: Int
    /// Bytes counted against the output budget now (held for clients that do not read).
    public var bufferedOutputBytes: Int
    /// The most ever counted, including what a connection added just before others were cut for it.
    public var peakBufferedOutputBytes: Int
    /// Connections closed so far to keep buffered output within the budget.
    public var connectionsCutForOutput: Int
}
