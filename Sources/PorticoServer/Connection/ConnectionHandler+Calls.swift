import Logging
import NIOCore
import PorticoReasons
import PorticoWire

/// Calls: dispatch, and the deferred ones' limits, deadlines and answers.
///
/// A deferred call counts against the limits (per connection, per peer address, per server) from when
/// it starts until its work has really finished. Its deadline answers the client but does not end the
/// work, so it does not end the count either: a client cannot queue more work than the limits by
/// giving every call a deadline of 1 µs. Once answered, its id may be used again; the old work's late
/// result is told apart by the generation recorded with the id, and dropped.
extension ConnectionHandler {
    func handleRequest(_ frame: Frame, context: ChannelHandlerContext) {
        let header = frame.header
        guard header.callID != 0 else {
            self.protocolViolation(
                context: context,
                WireError.invalidArgumentFrame("a call needs a call id other than 0")
            )
            return
        }
        self.lastCallID = max(self.lastCallID, header.callID)
        self.firstCallDeadline = nil
        // Whatever answers the call now (an early refusal, a read, a write refused over a limit) is
        // counted and logged once, here; a deferred call is, when it is answered.
        let telemetry = self.session.telemetry
        let started = telemetry?.start()
        let answered = self.responder.answers
        defer {
            if let telemetry, self.responder.answers != answered {
                telemetry.answered(
                    header.callID, header.knownMethod ?? .unspecified, self.responder.lastStatus, since: started)
            }
        }
        guard case .open = self.state else {
            self.responder.fail(
                header.callID,
                CallFailure(.unavailable, "the server is shutting down", reason: .goingAway)
            )
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
                CallFailure(
                    .invalidArgument,
                    "call id \(header.callID) is already in flight",
                    reason: .duplicateCallID
                )
            )
            return
        }
        let deadline = header.timeoutMicros == 0
            ? nil : NIODeadline.now() + .microseconds(Int64(clamping: header.timeoutMicros))
        let head = CallHead(
            callID: header.callID,
            method: method,
            credential: header.credential,
            onBehalfOfPersonID: header.onBehalfOfPersonID,
            deadline: deadline,
            idempotencyKey: header.idempotencyKey
        )
        guard let dispatcher = self.dispatcher ?? self.loadedDispatcher() else {
            self.environment.loading.answer(head, responder: &self.responder)
            return
        }
        let work = dispatcher.dispatch(head, body: frame.body, responder: &self.responder, session: &self.session)
        guard let work else { return }

        guard self.running < self.configuration.maxCallsInFlightPerConnection else {
            self.refuseOverLimit(head.callID, "too many calls in flight on this connection", context: context)
            return
        }
        guard self.environment.calls.acquire(self.slot.peerCalls) else {
            self.refuseOverLimit(
                head.callID,
                "too many calls in flight on the server from this address",
                context: context
            )
            return
        }
        self.runDeferred(head, work, started: started, context: context)
    }

    /// The dispatcher of the loaded core, kept from now on; nil while the server loads.
    private func loadedDispatcher() -> Dispatcher? {
        guard let loaded = self.environment.gate.dispatcher else { return nil }
        self.dispatcher = loaded
        return loaded
    }

    private func refuseOverLimit(_ callID: UInt64, _ message: String, context: ChannelHandlerContext) {
        self.environment.notices.notice(
            .callsOverLimit,
            "calls refused over the calls-in-flight limit: \(message)",
            metadata: [
                "limit": "\(self.configuration.maxCallsInFlightPerConnection)", "in_flight": "\(self.running)",
                "peer": "\(self.slot.peer)",
            ]
        )
        self.responder.fail(callID, CallFailure(.resourceExhausted, message, reason: .tooManyCalls, metaCode: 4))
    }

    private func runDeferred(
        _ head: CallHead,
        _ work: DeferredCall,
        started: NIODeadline?,
        context: ChannelHandlerContext
    ) {
        let callID = head.callID
        self.nextGeneration &+= 1
        let generation = self.nextGeneration
        self.running += 1
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        var timer: Scheduled<Void>?
        if let deadline = head.deadline {
            timer = context.eventLoop.scheduleTask(deadline: deadline) {
                let (handler, context) = loopBound.value
                handler.expire(callID, generation: generation, context: context)
            }
        }
        self.pending[callID] = PendingCall(generation: generation, timer: timer, method: head.method, started: started)
        let promise = context.eventLoop.makePromise(of: Result<any WireMessage, CallFailure>.self)
        let task = promise.completeWithTask { await work.run() }
        if work.waitsForRevision { self.waits[generation] = task }
        promise.futureResult.whenSuccess { result in
            let (handler, context) = loopBound.value
            handler.finish(callID, generation: generation, result, context: context)
        }
    }

    /// The call's deadline passed: answer it now; its work goes on, and counts, until it finishes.
    private func expire(_ callID: UInt64, generation: UInt64, context: ChannelHandlerContext) {
        guard let call = self.pending[callID], call.generation == generation else { return }
        self.pending.removeValue(forKey: callID)
        guard self.state != .closed else { return }
        self.session.telemetry?.answered(callID, call.method, .deadlineExceeded, since: call.started)
        self.responder.fail(
            callID,
            CallFailure(
                .deadlineExceeded,
                "the call's deadline passed before it completed; a write is applied only if it was validated in time "
                    + "(re-read to learn its outcome)",
                reason: .deadlineExceeded
            )
        )
        self.flush(context: context)
        self.closeIfDrained(context: context)
    }

    /// Ends the reads that wait for a revision: the connection closes or drains, and nobody would read
    /// their answers (closing) or the GOAWAY promised them one soon (draining). Each answers
    /// UNAVAILABLE (`REVISION_NOT_VISIBLE`) and leaves the count as any deferred call does.
    func cancelWaits() {
        for task in self.waits.values { task.cancel() }
    }

    /// The work of a deferred call has finished: it leaves the count, and answers its call unless the
    /// deadline answered it already (then the id may belong to a newer call, which this must not reach).
    private func finish(
        _ callID: UInt64,
        generation: UInt64,
        _ result: Result<any WireMessage, CallFailure>,
        context: ChannelHandlerContext
    ) {
        self.running -= 1
        if !self.waits.isEmpty { self.waits.removeValue(forKey: generation) }
        self.environment.calls.release(self.slot.peerCalls)
        defer { self.releaseSlotIfDone() }
        guard let call = self.pending[callID], call.generation == generation else { return }
        self.pending.removeValue(forKey: callID)
        call.timer?.cancel()
        guard self.state != .closed else { return }
        switch result {
        case .success(let message):
            // A check that waited for its revision counts its decision here (a write's answer has none).
            self.session.telemetry?.counters?.countDecisions(in: message)
            self.responder.succeed(callID, message)
        case .failure(let failure):
            self.responder.fail(callID, failure)
        }
        self.session.telemetry?.answered(callID, call.method, self.responder.lastStatus, since: call.started)
        self.flush(context: context)
        self.closeIfDrained(context: context)
    }
}
