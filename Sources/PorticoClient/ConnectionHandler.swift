import Logging
import NIOCore
import PorticoReasons
import PorticoWire

/// The client end of one connection: numbers and encodes outbound calls, matches inbound answers to
/// them by call id, enforces deadlines, and applies GOAWAY and connection loss to the calls in flight.
///
/// Outbound frames are encoded straight into one buffer that collects everything written during an
/// event-loop tick; a single flush, scheduled with the first write of the tick, hands it to the
/// socket. Many calls issued together therefore cost one write syscall.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case open
        /// The server sent GOAWAY; calls above `lastCallID` were failed, new calls are refused.
        case goingAway(lastCallID: UInt64, status: PorticoStatusError)
        case closed(PorticoStatusError)
    }

    let status: ConnectionStatus
    private let address: String
    private let maxFrameBytes: Int
    private let logger: Logger
    private let arena = WireArena()
    /// Completes frames split across reads; only those are copied.
    private var accumulator: FrameAccumulator
    private var state = State.open
    /// Whether the server has sent anything yet: its first bytes tell a TLS server from a Portico one.
    private var heardFromServer = false
    private var context: ChannelHandlerContext?
    private var pending: [UInt64: any PendingCallProtocol] = [:]
    private var nextCallID: UInt64 = 1
    /// Frames written since the last flush; starts with the preface so that it precedes every call.
    private var outbound: ByteBuffer
    private var flushScheduled = false
    private var closeRequestedByClient = false

    /// - Parameters:
    ///   - address: `host:port`, for messages.
    ///   - maxFrameBytes: the largest frame sent, length prefix included.
    init(address: String, maxFrameBytes: Int, status: ConnectionStatus, logger: Logger) {
        self.address = address
        self.maxFrameBytes = maxFrameBytes
        self.status = status
        self.logger = logger
        self.accumulator = FrameAccumulator(maxFrameBytes: maxFrameBytes, expectPreface: false)
        self.outbound = ByteBuffer(bytes: WirePreface.bytes)
    }

    // MARK: Calls, from the connection

    /// Numbers, encodes and queues `call`, unless the connection no longer takes calls.
    func start<RPC: PorticoRPC, Call: PendingCallProtocol>(
        _ call: Call,
        for rpc: RPC.Type,
        request: RPC.Request,
        credential: String,
        onBehalfOfPersonID: UInt64,
        timeout: Duration?,
        idempotencyKey: String
    ) {
        if let cancellation = call.cancellation {
            call.fail(cancellation)
            return
        }
        self.start(call, RPC.self, request, credential, onBehalfOfPersonID, timeout, idempotencyKey)
    }

    private func start<RPC: PorticoRPC, Call: PendingCallProtocol>(
        _ call: Call,
        _ rpc: RPC.Type,
        _ request: RPC.Request,
        _ credential: String,
        _ onBehalfOfPersonID: UInt64,
        _ timeout: Duration?,
        _ idempotencyKey: String
    ) {
        switch self.state {
        case .open:
            break
        case .goingAway(_, let status), .closed(let status):
            call.fail(UnprocessedCallError(status: status))
            return
        }
        guard let context = self.context else {
            call.fail(UnprocessedCallError(status: self.lostStatus))
            return
        }
        var timeoutMicros: UInt64 = 0
        if let timeout {
            guard timeout > .zero else {
                call.fail(Self.deadlineExceeded(timeout, callID: nil))
                return
            }
            timeoutMicros = Self.microseconds(timeout)
        }
        let callID = self.nextCallID
        let header = FrameHeader.request(
            callID: callID,
            method: RPC.method,
            credential: credential,
            onBehalfOfPersonID: onBehalfOfPersonID,
            timeoutMicros: timeoutMicros,
            idempotencyKey: idempotencyKey
        )
        do {
            try Frame.write(
                header: header,
                message: request,
                into: &self.outbound,
                arena: self.arena,
                maxBytes: self.maxFrameBytes
            )
        } catch {
            // Nothing was written: the request cannot be encoded (too large, a NUL in a string).
            let wire = error as? WireError
            call.fail(
                PorticoStatusError(
                    code: wire?.code ?? .invalidArgument,
                    message: "the \(RPC.method.protoValueName) request cannot be sent: \(wire?.message ?? "\(error)")",
                    detail: wire.map { ErrorDetail(reason: $0.reason) }
                )
            )
            return
        }
        self.nextCallID += 1
        call.sent(as: callID)
        self.pending[callID] = call
        if let timeout {
            call.deadline = try? context.eventLoop.assumeIsolated().scheduleCallback(
                in: TimeAmount(timeout),
                handler: DeadlineTimer(handler: self, call: call, timeout: timeout)
            )
        }
        self.scheduleFlush()
    }

    /// Fails `call` with `status` and tells the server, unless its answer already came.
    func cancel(_ call: any PendingCallProtocol, status: PorticoStatusError) {
        guard call.callID != 0 else {
            // Not sent yet (cancellation overtook the start on the way to the event loop).
            call.cancelBeforeSending(status)
            return
        }
        guard self.pending.removeValue(forKey: call.callID) != nil else { return }
        call.fail(status)
        self.sendCancel(call.callID)
        self.closeIfDrained()
    }

    /// Tells the server the client no longer wants call `callID` (a stream then ends).
    private func sendCancel(_ callID: UInt64) {
        if case .closed = self.state { return }
        // A CANCEL frame only has a header; it cannot fail to encode or exceed the limit.
        try? Frame(header: FrameHeader(kind: .cancel, callID: callID)).write(into: &self.outbound, arena: self.arena)
        self.scheduleFlush()
    }

    /// Closes the channel at the client's request; pending calls fail with UNAVAILABLE.
    func closeByClient() {
        self.closeRequestedByClient = true
        self.flushNow()
        self.context?.close(promise: nil)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { self.scheduleFlush() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        self.scheduleFlush()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // After a malformed frame nothing more that arrives can be matched.
        if case .closed = self.state { return }
        let bytes = Self.unwrapInboundIn(data)
        if !self.heardFromServer {
            self.heardFromServer = true
            // A TLS record (alert 0x15 or handshake 0x16, version 0x03 0x0n) where a frame's length should
            // be: a length of 350 MB or more, never a frame. Said plainly rather than as a malformed frame.
            if let first = bytes.getInteger(at: bytes.readerIndex, as: UInt16.self),
                first >> 8 == 0x15 || first >> 8 == 0x16, first & 0xff == 0x03
            {
                self.failAll(
                    PorticoStatusError(
                        code: .unavailable,
                        message: "the server at \(self.address) speaks TLS: connect with TLS (--tls-ca, PORTICO_TLS_CA)"
                    )
                )
                context.close(promise: nil)
                return
            }
        }
        self.accumulator.receive(bytes)
        do {
            while let frame = try self.accumulator.next() { self.handle(frame) }
        } catch {
            self.errorCaught(context: context, error: error)
        }
        self.accumulator.endRead(allocator: context.channel.allocator)
    }

    private func handle(_ frame: Frame) {
        switch frame.header.kind {
        case .response:
            // An id not in the table is the late answer to a cancelled or expired call: dropped.
            guard let call = self.pending.removeValue(forKey: frame.header.callID) else { return }
            if frame.header.statusCode == .ok {
                call.succeed(body: frame.body, arena: self.arena)
            } else {
                call.fail(PorticoStatusError(header: frame.header))
            }
            self.closeIfDrained()
        case .goaway:
            self.goAway(frame.header)
        case .streamItem:
            // An id not in the table: a stream the client cancelled, whose items were on the way.
            guard let call = self.pending[frame.header.callID] else { return }
            if call.streams, call.item(body: frame.body, arena: self.arena) { return }
            self.pending.removeValue(forKey: frame.header.callID)
            if !call.streams {
                call.fail(
                    PorticoStatusError(
                        code: .internal,
                        message: "the server sent a STREAM_ITEM for call \(frame.header.callID), which does not stream"
                    )
                )
            } else {
                self.sendCancel(frame.header.callID)
            }
            self.closeIfDrained()
        default:
            self.logger.debug(
                "ignoring a frame a server should not send",
                metadata: ["kind": "\(frame.header.kind.protoValueName)", "server": "\(self.address)"]
            )
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let wire = error as? WireError {
            // The byte stream cannot be trusted any more: nothing more that arrives can be matched.
            self.logger.warning(
                "closing a connection after a malformed frame from the server",
                metadata: ["server": "\(self.address)", "error": "\(wire)"]
            )
            self.failAll(
                PorticoStatusError(
                    code: .internal,
                    message: "the server at \(self.address) sent a malformed frame: \(wire.message)",
                    detail: ErrorDetail(reason: wire.reason)
                )
            )
        } else {
            self.logger.debug("connection error", metadata: ["server": "\(self.address)", "error": "\(error)"])
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Calls written and not answered may or may not have been processed: the pool may resend those
        // that carry an idempotency key. Not when the client itself closed the connection.
        self.failAll(self.lostStatus, answersLost: !self.closeRequestedByClient)
        context.fireChannelInactive()
    }

    // MARK: Internals

    /// Fails the calls the server will not answer and stops taking new ones.
    private func goAway(_ header: FrameHeader) {
        guard case .open = self.state else { return }
        let status = PorticoStatusError(
            code: .unavailable,
            message: "the server at \(self.address) is going away (\(header.statusCode.protoValueName): "
                + "\(header.statusMessage)); call ids above \(header.lastCallID) were not processed"
        )
        self.logger.debug(
            "server going away",
            metadata: ["server": "\(self.address)", "last_call_id": "\(header.lastCallID)"]
        )
        self.state = .goingAway(lastCallID: header.lastCallID, status: status)
        self.status.advance(to: .goingAway)
        let unprocessed = self.pending.keys.filter { $0 > header.lastCallID }
        for callID in unprocessed {
            self.pending.removeValue(forKey: callID)?.fail(UnprocessedCallError(status: status))
        }
        self.closeIfDrained()
    }

    /// After GOAWAY, closes once every call the server still answers has its answer.
    private func closeIfDrained() {
        guard case .goingAway = self.state, self.pending.isEmpty else { return }
        self.flushNow()
        self.context?.close(promise: nil)
    }

    private func failAll(_ status: PorticoStatusError, answersLost: Bool = false) {
        if case .closed = self.state {} else { self.state = .closed(status) }
        self.status.advance(to: .closed)
        let calls = self.pending.values
        self.pending.removeAll()
        for call in calls { call.fail(answersLost ? LostAnswerError(status: status) : status) }
    }

    private var lostStatus: PorticoStatusError {
        if case .closed(let status) = self.state { return status }
        if self.closeRequestedByClient {
            return PorticoStatusError(
                code: .unavailable, message: "the connection to \(self.address) was closed by the client")
        }
        if case .goingAway(_, let status) = self.state {
            return PorticoStatusError(code: .unavailable, message: "\(status.message); the connection then closed")
        }
        return PorticoStatusError(code: .unavailable, message: "the connection to \(self.address) was lost")
    }

    fileprivate func expire(_ call: any PendingCallProtocol, timeout: Duration) {
        call.deadline = nil
        self.cancel(call, status: Self.deadlineExceeded(timeout, callID: call.callID))
    }

    private func scheduleFlush() {
        guard !self.flushScheduled, let context = self.context else { return }
        self.flushScheduled = true
        // Runs after the tasks already queued on the loop, so the calls issued meanwhile share the flush.
        context.eventLoop.assumeIsolated().execute { self.flushNow() }
    }

    private func flushNow() {
        self.flushScheduled = false
        guard let context = self.context, context.channel.isActive, self.outbound.readableBytes > 0 else { return }
        let frames = self.outbound
        self.outbound = context.channel.allocator.buffer(capacity: max(256, frames.readableBytes))
        context.writeAndFlush(Self.wrapOutboundOut(frames), promise: nil)
    }

    private static func deadlineExceeded(_ timeout: Duration, callID: UInt64?) -> PorticoStatusError {
        PorticoStatusError(
            code: .deadlineExceeded,
            message: "no answer\(callID.map { " to call \($0)" } ?? "") within its deadline of \(timeout)",
            detail: ErrorDetail(reason: ErrorReason.clientDeadlineExceeded.rawValue)
        )
    }

    /// `timeout` in whole microseconds, at least 1 (0 would mean no deadline on the wire).
    private static func microseconds(_ timeout: Duration) -> UInt64 {
        let (seconds, attoseconds) = timeout.components
        let micros = seconds.multipliedReportingOverflow(by: 1_000_000)
        guard !micros.overflow else { return UInt64.max }
        return UInt64(max(1, micros.partialValue + attoseconds / 1_000_000_000_000))
    }
}

@available(*, unavailable)
extension ConnectionHandler: Sendable {}

/// Fails a call whose deadline passed, on the connection's event loop.
private struct DeadlineTimer: NIOScheduledCallbackHandler {
    let handler: ConnectionHandler
    let call: any PendingCallProtocol
    let timeout: Duration

    func handleScheduledCallback(eventLoop: some EventLoop) {
        self.handler.expire(self.call, timeout: self.timeout)
    }
}
