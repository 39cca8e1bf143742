import Logging
import NIOCore
import PorticoReasons
import PorticoWire

/// Sent down a connection's pipeline when the server begins a graceful shutdown.
struct ServerShutdownEvent: Sendable {}

/// Serves one connection: splits the bytes read into frames, answers calls (checks at once, on the
/// event loop; writes through deferred work), and flushes the answers once per read batch.
///
/// The handler runs its ``FrameDecoder`` itself rather than behind a `ByteToMessageHandler`: a frame
/// then goes from the read buffer to its dispatch without being boxed into `NIOAny` and cast back,
/// which on the hot path cost a generic metadata lookup and a dynamic cast per call.
///
/// Limits enforced here: calls in flight (RESOURCE_EXHAUSTED), deadlines (DEADLINE_EXCEEDED), idle
/// connections and clients that stop reading their answers (closed), and graceful shutdown (GOAWAY,
/// then close once the calls in flight are answered).
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case open
        /// A GOAWAY went out: no new calls; close once `pending` is empty.
        case draining
        case closed
    }

    // The handler's state is touched only on its channel's event loop, several times per call; the
    // runtime's dynamic exclusivity checks of class properties would only add cost.
    private let dispatcher: Dispatcher
    private let configuration: ServerConfiguration
    @exclusivity(unchecked) private var decoder: FrameDecoder
    /// Bytes read that do not make a whole frame yet.
    @exclusivity(unchecked) private var cumulation: ByteBuffer?
    @exclusivity(unchecked) private var logger: Logger
    @exclusivity(unchecked) private var responder: Responder
    @exclusivity(unchecked) private var session = CallSession()
    @exclusivity(unchecked) private var state = State.open
    /// Deferred calls not yet answered, with their deadline timers.
    @exclusivity(unchecked) private var pending: [UInt64: Scheduled<Void>?] = [:]
    @exclusivity(unchecked) private var lastCallID: UInt64 = 0
    @exclusivity(unchecked) private var slowClientTimer: Scheduled<Void>?

    init(dispatcher: Dispatcher, configuration: ServerConfiguration, logger: Logger) {
        self.dispatcher = dispatcher
        self.configuration = configuration
        self.decoder = FrameDecoder(maxFrameBytes: configuration.maxFrameBytes, expectPreface: true)
        self.logger = logger
        self.responder = Responder(
            buffer: ByteBuffer(),
            arena: WireArena(),
            maxFrameBytes: configuration.maxFrameBytes
        )
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.responder.buffer = context.channel.allocator.buffer(capacity: 1024)
        if let remote = context.channel.remoteAddress {
            self.logger[metadataKey: "peer"] = "\(remote)"
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard self.state != .closed else { return }
        var bytes = Self.unwrapInboundIn(data)
        var bytesAreCumulation = false
        do {
            // A frame split across reads: complete it from the new bytes and answer it, then read the
            // rest in place. Only the split frame's bytes are ever copied.
            if var partial = self.cumulation {
                self.cumulation = nil
                let missing = self.decoder.bytesMissing(in: partial)
                if missing > 0, missing <= bytes.readableBytes {
                    var completion = bytes.readSlice(length: missing)!
                    partial.writeBuffer(&completion)
                    try self.handleFrames(in: &partial, context: context)
                }
                if partial.readableBytes > 0 {
                    // Not whole yet (only its length prefix, or the new bytes fall short): read on
                    // from everything so far, in the buffer that already holds it.
                    partial.writeBuffer(&bytes)
                    bytes = partial
                    bytesAreCumulation = true
                }
            }
            try self.handleFrames(in: &bytes, context: context)
        } catch let error as WireError {
            self.protocolViolation(context: context, error)
            return
        } catch {
            self.protocolViolation(context: context, WireError.invalidArgumentFrame("\(error)"))
            return
        }
        guard bytes.readableBytes > 0 else { return }
        if bytesAreCumulation {
            // Our own buffer: keep it (appending to it grows it geometrically), dropping what was read,
            // so a large frame arriving in many small reads is copied once, not once per read.
            bytes.discardReadBytes()
            self.cumulation = bytes
        } else {
            // The tail of NIO's read buffer: copy just the tail, and let NIO reuse its buffer.
            var partial = context.channel.allocator.buffer(capacity: max(bytes.readableBytes, 256))
            partial.writeBuffer(&bytes)
            self.cumulation = partial
        }
    }

    /// Answers every whole frame at the front of `buffer`, consuming them.
    private func handleFrames(in buffer: inout ByteBuffer, context: ChannelHandlerContext) throws {
        while self.state != .closed, let frame = try self.decoder.nextFrame(from: &buffer) {
            self.handle(frame, context: context)
        }
    }

    private func handle(_ frame: Frame, context: ChannelHandlerContext) {
        switch frame.header.kind {
        case .request:
            self.handleRequest(frame, context: context)
        case .cancel:
            // The answer will be dropped by the client; a deferred write still completes, as documented.
            self.logger.trace("call cancelled by client", metadata: ["call": "\(frame.header.callID)"])
        case .goaway:
            self.logger.debug("client is going away")
            self.startDraining(context: context, status: .ok, message: "client going away")
        case .response, .streamItem, .unspecified:
            self.protocolViolation(
                context: context,
                WireError.invalidArgumentFrame("a client may not send a frame of kind \(frame.header.kind.protoValueName)")
            )
        }
    }

    private func handleRequest(_ frame: Frame, context: ChannelHandlerContext) {
        let header = frame.header
        guard header.callID != 0 else {
            self.protocolViolation(context: context, WireError.invalidArgumentFrame("a call needs a call id other than 0"))
            return
        }
        self.lastCallID = max(self.lastCallID, header.callID)
        guard case .open = self.state else {
            self.responder.fail(header.callID, CallFailure(.unavailable, "the server is shutting down", reason: .goingAway))
            return
        }
        guard let method = header.knownMethod else {
            self.responder.fail(
                header.callID,
                CallFailure(.unimplemented, "method \(header.method) is not implemented", reason: .unknownMethod)
            )
            return
        }
        guard self.pending[header.callID] == nil else {
            self.responder.fail(
                header.callID,
                CallFailure(.invalidArgument, "call id \(header.callID) is already in flight", reason: .duplicateCallID)
            )
            return
        }
        let deadline = header.timeoutMicros == 0 ? nil : NIODeadline.now() + .microseconds(Int64(clamping: header.timeoutMicros))
        let head = CallHead(
            callID: header.callID,
            method: method,
            credential: header.credential,
            onBehalfOfPersonID: header.onBehalfOfPersonID,
            deadline: deadline
        )
        let work = self.dispatcher.dispatch(head, body: frame.body, responder: &self.responder, session: &self.session)
        guard let work else { return }

        guard self.pending.count < self.configuration.maxCallsInFlightPerConnection else {
            self.logger.notice("calls in flight limit reached", metadata: ["limit": "\(self.configuration.maxCallsInFlightPerConnection)"])
            self.responder.fail(
                head.callID,
                CallFailure(.resourceExhausted, "too many calls in flight on this connection", reason: .tooManyCalls, metaCode: 4)
            )
            return
        }
        self.runDeferred(head, work, context: context)
    }

    private func runDeferred(_ head: CallHead, _ work: @escaping DeferredCall, context: ChannelHandlerContext) {
        let callID = head.callID
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        var timer: Scheduled<Void>?
        if let deadline = head.deadline {
            timer = context.eventLoop.scheduleTask(deadline: deadline) {
                let (handler, context) = loopBound.value
                handler.finish(
                    callID,
                    .failure(CallFailure(.deadlineExceeded, "the call's deadline passed", reason: .deadlineExceeded)),
                    context: context
                )
            }
        }
        self.pending[callID] = .some(timer)
        let promise = context.eventLoop.makePromise(of: Result<any WireMessage, CallFailure>.self)
        promise.completeWithTask { await work() }
        promise.futureResult.whenSuccess { result in
            let (handler, context) = loopBound.value
            handler.finish(callID, result, context: context)
        }
    }

    /// Answers a deferred call, unless its deadline already answered it.
    private func finish(_ callID: UInt64, _ result: Result<any WireMessage, CallFailure>, context: ChannelHandlerContext) {
        guard let timer = self.pending.removeValue(forKey: callID) else { return }
        timer?.cancel()
        guard self.state != .closed else { return }
        switch result {
        case .success(let message):
            self.responder.succeed(callID, message)
        case .failure(let failure):
            self.responder.fail(callID, failure)
        }
        self.flush(context: context)
        self.closeIfDrained(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.flush(context: context)
        context.fireChannelReadComplete()
    }

    private func flush(context: ChannelHandlerContext) {
        guard self.responder.buffer.readableBytes > 0, self.state != .closed else { return }
        let out = self.responder.buffer
        self.responder.buffer = context.channel.allocator.buffer(capacity: max(1024, out.readableBytes))
        context.writeAndFlush(Self.wrapOutboundOut(out), promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ServerShutdownEvent:
            self.startDraining(context: context, status: .unavailable, message: "the server is shutting down")
        case let idle as IdleStateHandler.IdleStateEvent where idle == .read:
            guard self.pending.isEmpty, case .open = self.state else { return }
            self.logger.debug("closing idle connection")
            self.startDraining(context: context, status: .unavailable, message: "idle connection closed")
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// Sends GOAWAY, refuses new calls, and closes once the calls in flight are answered.
    private func startDraining(context: ChannelHandlerContext, status: StatusCode, message: String) {
        guard case .open = self.state else { return }
        self.state = .draining
        if status != .ok {
            self.responder.goAway(lastCallID: self.lastCallID, status: status, message: message)
            self.flush(context: context)
        }
        self.closeIfDrained(context: context)
    }

    private func closeIfDrained(context: ChannelHandlerContext) {
        guard case .draining = self.state, self.pending.isEmpty else { return }
        self.state = .closed
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.slowClientTimer?.cancel()
            self.slowClientTimer = nil
        } else if self.slowClientTimer == nil {
            // BackPressureHandler has stopped reading; a client that never reads again is cut off.
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            self.slowClientTimer = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(self.configuration.slowClientTimeout.nanoseconds))) {
                let (handler, context) = loopBound.value
                handler.logger.notice("closing a connection whose client stopped reading its answers")
                handler.state = .closed
                context.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
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
    private func protocolViolation(context: ChannelHandlerContext, _ error: WireError) {
        guard self.state != .closed else { return }
        self.logger.notice("closing connection: \(error.reason)", metadata: ["status": "\(error.code.protoValueName)"])
        self.responder.goAway(lastCallID: self.lastCallID, status: error.code, message: error.message)
        self.flush(context: context)
        self.state = .closed
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.state = .closed
        for timer in self.pending.values { timer?.cancel() }
        self.slowClientTimer?.cancel()
        context.fireChannelInactive()
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
