import Logging
import NIOCore
import PorticoReasons
import PorticoWire

/// Sent down a connection's pipeline when the server begins a graceful shutdown.
struct ServerShutdownEvent: Sendable {}

/// Serves one connection: splits the bytes read into frames, answers calls (checks at once, on the
/// event loop; writes through deferred work), and flushes the answers once per read batch.
///
/// It also decides when the connection reads (it is a duplex handler for `read`): not while its client
/// leaves answers unread, and not while it has frames it has not taken yet (a turn of work is bounded,
/// so one connection's pipelined calls cannot keep the event loop from the others).
///
/// The handler runs a ``FrameAccumulator`` itself rather than a decoder behind a `ByteToMessageHandler`:
/// a frame then goes from the read buffer to its dispatch without being boxed into `NIOAny` and cast
/// back, which on the hot path cost a generic metadata lookup and a dynamic cast per call.
///
/// What a client can make a connection hold is bounded here, each in its own file: calls in flight,
/// counted until their work has really finished, with answers that cannot reach a newer call of the
/// same id (`+Calls`); answers a client does not read, against the server's output budget (`+Output`);
/// frames that take too long to arrive and connections that never call (`+Watchdog`); frames received in
/// part, against the server's input budget (`+Input`). Repeated notices
/// are throttled across the server (``ServerNotices``).
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum State {
        case open
        /// A GOAWAY went out: no new calls; close once every call is answered.
        case draining
        case closed
    }

    /// Whether the connection takes frames now.
    enum Intake {
        case open
        /// The client leaves its answers unread: until the channel is writable again.
        case stalled
        /// This turn's work is done: the rest waits for a turn scheduled behind the other connections.
        case yielded
    }

    /// A deferred call not yet answered: its generation tells its completion from that of an earlier
    /// call with the same id, whose deadline answered it while its work went on.
    struct PendingCall {
        let generation: UInt64
        var timer: Scheduled<Void>?
        /// For the call's metrics and log line: what it called, and when it began (nil if not timed).
        let method: Method
        let started: NIODeadline?
    }

    let environment: ConnectionEnvironment
    let configuration: ServerConfiguration
    let slot: ConnectionSlot

    // The handler's state is touched only on its channel's event loop, several times per call; the
    // runtime's dynamic exclusivity checks of class properties would only add cost.
    /// The loaded core's dispatcher, once this connection has seen it; nil while the server loads.
    @exclusivity(unchecked) var dispatcher: Dispatcher?
    /// What the connection remembers between calls: its callers and the token secrets it presented.
    @exclusivity(unchecked) var session = CallSession()
    @exclusivity(unchecked) var accumulator: FrameAccumulator
    @exclusivity(unchecked) var logger: Logger
    @exclusivity(unchecked) var responder: Responder
    @exclusivity(unchecked) var state = State.open
    @exclusivity(unchecked) var lastCallID: UInt64 = 0
    /// Set once `channelInactive` has run; the slot is given back when this and no work is left.
    @exclusivity(unchecked) var inactive = false
    @exclusivity(unchecked) var slotReleased = false
    /// Set once a drained connection has closed its side: what still arrives is read and dropped.
    @exclusivity(unchecked) var lingering = false
    @exclusivity(unchecked) var lingerTimer: Scheduled<Void>?

    // Calls (ConnectionHandler+Calls.swift).
    @exclusivity(unchecked) var pending: [UInt64: PendingCall] = [:]
    @exclusivity(unchecked) var nextGeneration: UInt64 = 0
    /// Deferred calls whose work has not finished, answered or not: what counts against the limit.
    @exclusivity(unchecked) var running = 0
    /// The tasks of the reads waiting for a revision, by generation: cancelled when the connection
    /// closes or drains, so that no waiter outlives its connection.
    @exclusivity(unchecked) var waits: [UInt64: Task<Void, Never>] = [:]

    // Output and intake (ConnectionHandler+Output.swift).
    /// Frames not taken wait in the accumulator, and the connection does not read, until intake reopens.
    @exclusivity(unchecked) var intake = Intake.open
    @exclusivity(unchecked) var readPending = false
    /// Frames taken in this turn (since the last read batch or resumption).
    @exclusivity(unchecked) var turnFrames = 0
    @exclusivity(unchecked) var takingFrames = false
    /// Where this connection waits for its next turn; its event loop's, found when it first yields.
    @exclusivity(unchecked) var turnQueue: TurnQueue?
    @exclusivity(unchecked) var stalledSince: NIODeadline?
    @exclusivity(unchecked) var slowClientTimer: Scheduled<Void>?

    // Watchdog (ConnectionHandler+Watchdog.swift).
    /// When the frame (or, until it is whole, the preface) now arriving began.
    @exclusivity(unchecked) var frameStartedAt: NIODeadline?
    @exclusivity(unchecked) var tookFrame = false
    @exclusivity(unchecked) var firstCallDeadline: NIODeadline?
    @exclusivity(unchecked) var watchdog: Scheduled<Void>?
    @exclusivity(unchecked) var watchdogAt: NIODeadline?
    /// The late frame the watchdog last looked at again, and how much of it had been read then.
    @exclusivity(unchecked) var lateFrameLook: (startedAt: NIODeadline, bytes: Int)?
    /// Whether the watchdog, run late at the first-call deadline, has looked again.
    @exclusivity(unchecked) var firstCallLookedAgain = false

    // Input (ConnectionHandler+Input.swift).
    /// Whether the input budget counts what this connection holds.
    @exclusivity(unchecked) var inputCounted = false

    init(environment: ConnectionEnvironment, slot: ConnectionSlot) {
        self.environment = environment
        self.configuration = environment.configuration
        self.slot = slot
        self.dispatcher = environment.gate.dispatcher
        self.accumulator = FrameAccumulator(
            maxFrameBytes: configuration.maxFrameBytes,
            maxHeaderBytes: Frame.maxRequestHeaderBytes,
            expectPreface: true
        )
        self.logger = environment.logger
        self.responder = Responder(buffer: ByteBuffer(), arena: WireArena(), maxFrameBytes: configuration.maxFrameBytes)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.session.presentedTokens = PresentedTokenCache(self.environment.tokenCaches.cache(for: context.eventLoop))
        self.responder.buffer = context.channel.allocator.buffer(capacity: 1024)
        self.logger[metadataKey: "peer"] = "\(self.slot.peer)"
        self.session.telemetry = ConnectionTelemetry(
            counters: self.environment.metrics?.loops.counters(for: context.eventLoop),
            logger: self.logger,
            noticeInterval: TimeAmount(self.configuration.noticeInterval)
        )
    }

    func channelActive(context: ChannelHandlerContext) {
        self.startWatchdog(context: context)
        if self.environment.isShuttingDown {
            self.startDraining(context: context, status: .unavailable, message: "the server is shutting down")
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard self.state != .closed else { return }
        self.accumulator.receive(Self.unwrapInboundIn(data))
        if case .open = self.intake { self.takeFrames(context: context) }
        self.accumulator.endRead(allocator: context.channel.allocator)
        self.watchFrameInProgress(context: context)
        self.recordInput(context: context)
    }

    /// Answers the whole frames received, until this turn's work is done, the client stops reading its
    /// answers, or the connection closes.
    func takeFrames(context: ChannelHandlerContext) {
        guard !self.takingFrames else { return }
        guard context.channel.isWritable else {
            self.intake = .stalled
            return
        }
        self.takingFrames = true
        defer { self.takingFrames = false }
        do {
            while self.state != .closed, case .open = self.intake, let frame = try self.accumulator.next() {
                self.tookFrame = true
                self.handle(frame, context: context)
                self.turnFrames &+= 1
                if self.turnFrames >= Self.turnFrames || self.responder.buffer.readableBytes >= Self.turnOutputBytes {
                    self.endTurn(context: context)
                }
            }
        } catch let error as WireError {
            self.protocolViolation(context: context, error)
        } catch {
            self.protocolViolation(context: context, WireError.invalidArgumentFrame("\(error)"))
        }
    }

    private func handle(_ frame: Frame, context: ChannelHandlerContext) {
        switch frame.header.kind {
        case .request:
            self.handleRequest(frame, context: context)
        case .cancel:
            // The client drops the answer; the work (a write) goes on and its answer is sent as usual.
            // Nothing is stored for a CANCEL, so a flood of them for ids never used costs no memory.
            self.logger.trace("call cancelled by client", metadata: ["call": "\(frame.header.callID)"])
        case .goaway:
            self.logger.debug("client is going away")
            self.startDraining(context: context, status: .ok, message: "client going away")
        case .response, .streamItem, .unspecified:
            self.protocolViolation(
                context: context,
                WireError.invalidArgumentFrame(
                    "a client may not send a frame of kind \(frame.header.kind.protoValueName)"
                )
            )
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.flush(context: context)
        self.turnFrames = 0
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ServerShutdownEvent:
            self.startDraining(context: context, status: .unavailable, message: "the server is shutting down")
        case is InputBudgetCutEvent:
            self.cutForInput(context: context)
        case let idle as IdleStateHandler.IdleStateEvent where idle == .read:
            guard self.pending.isEmpty, case .open = self.state else { return }
            self.logger.debug("closing idle connection")
            self.startDraining(context: context, status: .unavailable, message: "idle connection closed")
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// Sends GOAWAY, refuses new calls, and closes once the calls in flight are answered.
    func startDraining(context: ChannelHandlerContext, status: StatusCode, message: String) {
        guard case .open = self.state else { return }
        self.state = .draining
        self.cancelWaits()
        if status != .ok {
            self.responder.goAway(lastCallID: self.lastCallID, status: status, message: message)
            self.flush(context: context)
        }
        self.closeIfDrained(context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let wireError = error as? WireError {
            self.protocolViolation(context: context, wireError)
        } else {
            self.logger.debug("connection error", metadata: ["error": "\(error)"])
            self.state = .closed
            context.close(promise: nil)
        }
    }

    /// The connection is out of sync or misbehaving: GOAWAY with the fault's status, then close.
    func protocolViolation(context: ChannelHandlerContext, _ error: WireError, logged: Bool = true) {
        guard self.state != .closed else { return }
        if logged {
            self.environment.notices.notice(
                .protocolViolation,
                "closing connection: \(error.reason)",
                metadata: ["status": "\(error.code.protoValueName)", "peer": "\(self.slot.peer)"]
            )
        }
        self.responder.goAway(
            lastCallID: self.lastCallID, status: error.code, message: error.message, reason: error.errorReason)
        self.flush(context: context)
        self.state = .closed
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.state = .closed
        self.inactive = true
        for call in self.pending.values { call.timer?.cancel() }
        self.pending.removeAll()
        self.cancelWaits()
        self.slowClientTimer?.cancel()
        self.slowClientTimer = nil
        self.watchdog?.cancel()
        self.watchdog = nil
        self.lingerTimer?.cancel()
        self.lingerTimer = nil
        self.environment.output.remove(ObjectIdentifier(self), closed: true)
        self.environment.input.remove(ObjectIdentifier(self), closed: true)
        self.session.telemetry?.closed()
        self.releaseSlotIfDone()
        context.fireChannelInactive()
    }

    /// Gives the connection's place back once it has closed and the work of its calls has finished.
    func releaseSlotIfDone() {
        guard self.inactive, self.running == 0, !self.slotReleased else { return }
        self.slotReleased = true
        self.environment.registry.release(self.slot)
    }
}

@available(*, unavailable)
extension ConnectionHandler: Sendable {}

extension WireError {
    static func invalidArgumentFrame(_ message: String) -> WireError {
        WireError(code: .invalidArgument, reason: .protocolViolation, message: message)
    }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds.multipliedReportingOverflow(by: 1_000_000_000).overflow
            ? Int64.max : seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
