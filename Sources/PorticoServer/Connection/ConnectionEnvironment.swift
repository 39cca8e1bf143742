import Logging
import NIOCore
import PorticoWire
import Synchronization

/// What the connections of one server share: its configuration and limits, and the dispatcher once
/// the core has loaded.
final class ConnectionEnvironment: Sendable {
    let configuration: ServerConfiguration
    let gate: CoreGate
    let loading: LoadingDispatcher
    let registry: ConnectionRegistry
    let calls: CallBudget
    let output: ConnectionByteBudget
    let input: ConnectionByteBudget
    let notices: ServerNotices
    let turns = TurnQueues()
    /// Token secrets verified, one cache per event loop.
    let tokenCaches = VerifiedTokenCaches()
    let logger: Logger
    /// Where connections count their calls; nil when the server keeps no metrics.
    let metrics: ServerMetrics?
    // Read once per new connection, set once at shutdown.
    private let shuttingDown = Atomic<Bool>(false)

    init(configuration: ServerConfiguration, dispatcher: Dispatcher?, logger: Logger, metrics: ServerMetrics? = nil) {
        self.configuration = configuration
        self.gate = CoreGate(dispatcher)
        self.loading = LoadingDispatcher(configuration: configuration)
        self.registry = ConnectionRegistry(
            limit: configuration.maxConnections,
            perAddressLimit: configuration.connectionsPerAddressLimit
        )
        self.calls = CallBudget(
            limit: configuration.maxCallsInFlight,
            perAddressLimit: configuration.callsInFlightPerAddressLimit
        )
        self.output = ConnectionByteBudget(limit: configuration.maxBufferedOutputBytes, clock: .first)
        self.input = ConnectionByteBudget(limit: configuration.maxBufferedInputBytes, clock: .latest)
        self.notices = ServerNotices(interval: TimeAmount(configuration.noticeInterval), logger: logger)
        self.logger = logger
        self.metrics = metrics
    }

    var isShuttingDown: Bool { self.shuttingDown.load(ordering: .relaxed) }

    func beginShutdown() { self.shuttingDown.store(true, ordering: .relaxed) }
}

/// Answers a connection the server does not take (over a connection limit, or shutting down) with
/// GOAWAY and closes it.
final class RefuseConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let status: StatusCode
    private let message: String

    init(status: StatusCode, message: String) {
        self.status = status
        self.message = message
    }

    func channelActive(context: ChannelHandlerContext) {
        var goAway = context.channel.allocator.buffer(capacity: 128)
        try? Frame(header: .goAway(lastCallID: 0, status: self.status, message: self.message))
            .write(into: &goAway, arena: WireArena())
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(Self.wrapOutboundOut(goAway)).whenComplete { _ in
            bound.value.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

@available(*, unavailable)
extension RefuseConnectionHandler: Sendable {}
