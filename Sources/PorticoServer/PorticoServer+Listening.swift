import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PorticoWire
import Synchronization

/// Accepting connections, fitting their number to the files the process may open, and draining them.
extension PorticoServer {
    /// How long the listener waits before accepting again after accept failed (EMFILE, ENFILE, ENOBUFS,
    /// ENOMEM): long enough not to spin on a condition that persists, short enough that a client in
    /// the backlog is answered soon after a file is free again.
    static let acceptBackoff = TimeAmount.milliseconds(200)

    /// - Parameter tls: with it, every connection starts with a TLS handshake (whose time counts
    ///   against the preface's frame timeout), then speaks the protocol inside it.
    func bind(tls: ServerTLS?) async throws -> any Channel {
        let environment = self.environment
        let configuration = self.configuration
        return try await ServerBootstrap(group: self.group)
            // A storm of connections waits in the backlog; accepting 64 per turn of the event loop rather
            // than NIO's default 4 lets a new client in within a few turns even when every turn is long.
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.maxMessagesPerRead, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                // The bootstrap's non-async bind adds no backoff of its own: without one, a failed
                // accept (EMFILE) was retried at once, in a loop that took a whole core.
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        AcceptBackoffHandler(shouldForwardIOErrorCaught: false) { error in
                            environment.notices.notice(
                                .acceptFailed,
                                "cannot accept a connection; waiting before the next accept",
                                metadata: ["error": "\(error)"]
                            )
                            return Self.acceptBackoff
                        }
                    )
                }
            }
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)  // SOL_TCP: `.socketOption` would set SO_DEBUG
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let bytes = configuration.socketSendBufferBytes {
                        try channel.syncOptions?.setOption(.socketOption(.so_sndbuf), value: SocketOptionValue(bytes))
                    }
                    if let tls {
                        // First, for every connection, refused ones too: their refusal is read inside TLS.
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.context))
                    }
                    try Self.initialize(channel, environment: environment, configuration: configuration)
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
    }

    private static func initialize(
        _ channel: any Channel,
        environment: ConnectionEnvironment,
        configuration: ServerConfiguration
    ) throws {
        let handlers = channel.pipeline.syncOperations
        guard !environment.isShuttingDown else {
            environment.metrics?.loops.counters(for: channel.eventLoop).refused(.shuttingDown)
            try handlers.addHandler(
                RefuseConnectionHandler(status: .unavailable, message: "the server is shutting down")
            )
            return
        }
        switch environment.registry.admit(channel, peer: channel.remoteAddress) {
        case .admitted(let slot):
            try handlers.addHandler(IdleStateHandler(readTimeout: TimeAmount(configuration.idleTimeout)))
            try handlers.addHandler(ConnectionHandler(environment: environment, slot: slot))
        case .refusedTotal:
            environment.metrics?.loops.counters(for: channel.eventLoop).refused(.connectionLimit)
            let limit = environment.registry.limit
            environment.notices.notice(
                .refusedOverLimit,
                "connection refused: limit reached",
                metadata: ["limit": "\(limit)"]
            )
            try handlers.addHandler(
                RefuseConnectionHandler(status: .resourceExhausted, message: "the server has \(limit) connections open")
            )
        case .refusedAddress(let peer):
            environment.metrics?.loops.counters(for: channel.eventLoop).refused(.addressLimit)
            let limit = configuration.connectionsPerAddressLimit
            environment.notices.notice(
                .refusedOverAddressLimit,
                "connection refused: per-address limit reached",
                metadata: ["limit": "\(limit)", "peer": "\(peer)"]
            )
            try handlers.addHandler(
                RefuseConnectionHandler(
                    status: .resourceExhausted,
                    message: "\(peer) has \(limit) connections open, the most one address may have"
                )
            )
        }
    }

    /// Lowers the connection limit below what the process's open-file limit allows, with a warning:
    /// past it, accept fails with EMFILE and a client gets no answer at all instead of a GOAWAY.
    func fitConnectionsToFileLimit() {
        let loops = Array(self.group.makeIterator()).count
        let fileLimit = FileDescriptorLimit.current
        let fitted = FileDescriptorLimit.connections(
            configured: self.configuration.maxConnections,
            limit: fileLimit,
            eventLoops: loops
        )
        guard fitted < self.configuration.maxConnections, let fileLimit else { return }
        self.logger.warning(
            "the open-file limit is below the connection limit: serving at most \(fitted) connections",
            metadata: [
                "open_file_limit": "\(fileLimit)",
                "max_connections": "\(self.configuration.maxConnections)",
                "headroom": "\(FileDescriptorLimit.headroom(eventLoops: loops))",
            ]
        )
        self.environment.registry.limit = fitted
    }

    /// Checks every 10 s whether clients made the server hold much memory since the last check, and if
    /// so gives the allocator's free pages back to the system (``MemoryTrim``), on a thread of its own.
    func startMemoryTrim() -> RepeatedTask {
        let loop = self.group.any()
        let registry = self.environment.registry
        let output = self.environment.output
        let state = NIOLoopBoundBox.makeBoxSendingValue(MemoryTrim(), eventLoop: loop)
        return loop.scheduleRepeatedTask(initialDelay: .seconds(10), delay: .seconds(10)) { _ in
            let peak = output.takePeakSinceLastCheck()
            guard state.value.shouldTrim(released: registry.released, outputPeakSinceLastCheck: peak) else { return }
            Task.detached { MemoryTrim.trim() }
        }
    }

    /// Lets every connection answer its calls in flight, within the grace period, then closes the rest;
    /// returns once the last connection has gone (or, past the grace period, once they are closed).
    func drain() async {
        let registry = self.environment.registry
        self.logger.info("shutting down", metadata: ["connections": "\(registry.count)"])
        registry.announceShutdown()
        let loop = self.group.any()
        let drained = loop.makePromise(of: Void.self)
        registry.whenEmpty(drained)
        let logger = self.logger
        let grace = loop.scheduleTask(in: TimeAmount(self.configuration.shutdownGracePeriod)) {
            logger.warning("grace period over: closing connections", metadata: ["connections": "\(registry.count)"])
            registry.closeAll()
            // Connections close at once; work stuck in the store would hold its place for ever, so
            // the wait ends a moment later whatever is left.
            loop.scheduleTask(in: .seconds(1)) { drained.succeed() }
        }
        // Not Task.sleep or a cancellable wait: the task may be cancelled already (that is how a test
        // stops a server), and the connections must still be let go.
        try? await drained.futureResult.get()
        grace.cancel()
        try? self.lifecycle.withLock { try $0.stopped() }
        self.environment.notices.summarizeAll()
        self.logger.info("stopped", metadata: ["connections": "\(registry.count)"])
    }
}
