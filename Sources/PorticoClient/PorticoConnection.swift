public import Logging
public import NIOCore
import NIOPosix
import NIOSSL
public import PorticoWire

/// One TCP connection to a Portico server, carrying many calls at once.
///
/// Calls are numbered from 1 on the connection's event loop, in the order they are written; answers
/// are matched to them by that number, in whatever order they come. A call's deadline
/// (`CallOptions.timeout`, else ``ClientConfiguration/defaultTimeout``) is sent to the server and
/// enforced here too: when it passes, the call fails with DEADLINE_EXCEEDED and the server is sent a
/// CANCEL. Cancelling the awaiting task does the same with CANCELLED.
///
/// After the server's GOAWAY the connection takes no new calls (they fail with UNAVAILABLE), calls at or
/// below its `last_call_id` still get their answers, and those above fail with UNAVAILABLE; the
/// connection closes when the last of those answers arrives or the server closes, whichever is first.
/// When the connection is lost every call in flight fails with UNAVAILABLE. ``PorticoClient`` pools connections
/// and reconnects; use a connection directly to control exactly which socket a call takes.
public final class PorticoConnection: PorticoCalling {
    /// The settings the connection was opened with.
    public let configuration: ClientConfiguration
    /// The event loop every call of this connection runs its bookkeeping on.
    public let eventLoop: any EventLoop
    private let channel: any Channel
    private let handler: NIOLoopBound<ConnectionHandler>
    private let connectionStatus: ConnectionStatus

    private init(
        configuration: ClientConfiguration,
        channel: any Channel,
        handler: NIOLoopBound<ConnectionHandler>,
        status: ConnectionStatus
    ) {
        self.configuration = configuration
        self.eventLoop = channel.eventLoop
        self.channel = channel
        self.handler = handler
        self.connectionStatus = status
    }

    /// Opens a connection and sends the protocol preface.
    /// - Parameters:
    ///   - configuration: the server's address, default credential and deadline, frame limit.
    ///   - eventLoopGroup: where the connection's I/O runs, kept alive by the caller; nil for NIO's
    ///     process-wide `MultiThreadedEventLoopGroup.singleton`.
    ///   - logger: receives connection events; never credentials.
    /// - Throws: `PorticoStatusError` with UNAVAILABLE, naming host and port, when the server cannot be reached.
    public static func connect(
        configuration: ClientConfiguration,
        eventLoopGroup: (any EventLoopGroup)? = nil,
        logger: Logger = Logger(label: "portico.client")
    ) async throws -> PorticoConnection {
        try await Self.makeConnection(
            configuration: configuration,
            eventLoopGroup: eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton,
            logger: logger
        ).get()
    }

    /// Opens a connection; the future fails with UNAVAILABLE when the server cannot be reached.
    static func makeConnection(
        configuration: ClientConfiguration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger
    ) -> EventLoopFuture<PorticoConnection> {
        let address = "\(configuration.host):\(configuration.port)"
        let status = ConnectionStatus()
        let tls: NIOSSLContext?
        do {
            tls = try configuration.tls?.makeContext()
        } catch {
            return eventLoopGroup.any().makeFailedFuture(
                PorticoStatusError(code: .unavailable, message: "cannot connect to \(address) over TLS: \(error)")
            )
        }
        // SNI carries a host name only; an address is verified against the certificate's IP addresses.
        let serverHostname = configuration.host.contains(where: { $0.isLetter }) ? configuration.host : nil
        return ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)  // SOL_TCP: `.socketOption` would set SO_DEBUG
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: tls, serverHostname: serverHostname)
                        )
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        ConnectionHandler(
                            address: address,
                            maxFrameBytes: configuration.maxFrameBytes,
                            status: status,
                            logger: logger
                        )
                    )
                }
            }
            .connect(host: configuration.host, port: configuration.port)
            .flatMapErrorThrowing { error in
                throw PorticoStatusError(
                    code: .unavailable,
                    message: "cannot connect to \(address): \(NetworkErrorText.describe(error))"
                )
            }
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: ConnectionHandler.self)
                logger.debug("connected", metadata: ["server": "\(address)"])
                return PorticoConnection(
                    configuration: configuration,
                    channel: channel,
                    handler: NIOLoopBound(handler, eventLoop: channel.eventLoop),
                    status: status
                )
            }
    }

    /// Whether the connection takes new calls: false once the server sent GOAWAY or the connection closed.
    public var isAcceptingCalls: Bool {
        self.connectionStatus.value == .open
    }

    /// Open, going away or closed, as last seen on the event loop.
    var status: ConnectionStatus.Value {
        self.connectionStatus.value
    }

    /// Sends `request` as a call of `rpc` and waits for its answer.
    /// - Throws: `PorticoStatusError`: the server's status; DEADLINE_EXCEEDED, CANCELLED, or UNAVAILABLE
    ///   (connection lost, going away) from the client; INTERNAL when the answer does not decode.
    public func call<RPC: PorticoRPC>(
        _ rpc: RPC.Type,
        _ request: RPC.Request,
        options: CallOptions
    ) async throws -> RPC.Response {
        do {
            return try await self.perform(rpc, request, options: options)
        } catch {
            throw PorticoStatusError.surfaced(error)
        }
    }

    /// Like ``call(_:_:options:)``, but a call the server never processed throws `UnprocessedCallError`,
    /// so that the pool can retry it elsewhere.
    func perform<RPC: PorticoRPC>(
        _ rpc: RPC.Type,
        _ request: RPC.Request,
        options: CallOptions
    ) async throws -> RPC.Response {
        if Task.isCancelled { throw Self.cancelled }
        let call = PendingCall<RPC>()
        let handler = self.handler
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                self.eventLoop.execute {
                    call.wait(with: continuation)
                    self.start(
                        call, RPC.self, request, options: options,
                        timeout: options.timeout ?? self.configuration.defaultTimeout,
                        idempotencyKey: RPC.changesState ? options.idempotencyKey ?? "" : "")
                }
            }
        } onCancel: {
            self.eventLoop.execute { handler.value.cancel(call, status: Self.cancelled) }
        }
    }

    /// Opens a server stream of `rpc` (Watch): its items as they arrive, until the server ends it (the
    /// sequence throws `PorticoStatusError`, whose `detail.resumeRevision` says where to resume) or the
    /// consumer stops iterating (the client then sends CANCEL, which ends the stream on the server).
    ///
    /// No default timeout applies to a stream; `options.timeout`, when set, is its deadline. Items the
    /// consumer has not taken yet are buffered in this process: a consumer that falls far behind a busy
    /// server holds them all (the server bounds only what its socket holds).
    public func stream<RPC: PorticoRPC>(
        _ rpc: RPC.Type,
        _ request: RPC.Request,
        options: CallOptions = CallOptions()
    ) -> AsyncThrowingStream<RPC.Response, any Error> {
        let handler = self.handler
        let eventLoop = self.eventLoop
        let (stream, continuation) = AsyncThrowingStream<RPC.Response, any Error>.makeStream()
        let call = StreamingCall<RPC>(continuation)
        continuation.onTermination = { termination in
            guard case .cancelled = termination else { return }
            eventLoop.execute { handler.value.cancel(call, status: Self.cancelled) }
        }
        eventLoop.execute {
            self.start(call, RPC.self, request, options: options, timeout: options.timeout, idempotencyKey: "")
        }
        return stream
    }

    /// Starts `call` on the connection's handler, with `options`' credential and on-behalf-of person, or
    /// the connection's. On the event loop.
    private func start<RPC: PorticoRPC, Call: PendingCallProtocol>(
        _ call: Call, _ rpc: RPC.Type, _ request: RPC.Request, options: CallOptions, timeout: Duration?,
        idempotencyKey: String
    ) {
        self.handler.value.start(
            call,
            for: rpc,
            request: request,
            credential: options.credential ?? self.configuration.credential,
            onBehalfOfPersonID: options.onBehalfOfPersonID ?? self.configuration.onBehalfOfPersonID,
            timeout: timeout,
            idempotencyKey: idempotencyKey
        )
    }

    /// Watches the changes after `request.afterRevision` (docs/clients.md, "Watch").
    public func watch(
        _ request: WatchRequest = WatchRequest(),
        options: CallOptions = CallOptions()
    ) -> AsyncThrowingStream<WatchEvent, any Error> {
        self.stream(PorticoService.Watch.self, request, options: options)
    }

    /// Closes the connection; calls in flight fail with UNAVAILABLE.
    public func close() async {
        self.startClosing()
        await self.waitUntilClosed()
    }

    /// Starts closing the connection without waiting for it to close.
    func startClosing() {
        let handler = self.handler
        self.eventLoop.execute { handler.value.closeByClient() }
    }

    /// Returns once the connection is closed, by either side.
    public func waitUntilClosed() async {
        try? await self.channel.closeFuture.get()
    }

    private static let cancelled = PorticoStatusError(code: .cancelled, message: "the calling task was cancelled")
}
