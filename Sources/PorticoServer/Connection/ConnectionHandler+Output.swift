import Logging
import NIOCore
import PorticoWire

/// Output and intake: answers are flushed once per read batch, or sooner in a long turn. A turn of work
/// is bounded (64 KiB of answers or 1,024 frames): past it the connection yields, and takes the rest of
/// its frames in a later turn (``TurnQueue``), after the loop has served its other sockets; meanwhile it
/// does not read. A client that does not read its answers stalls its connection, which then takes no frames and
/// reads nothing, counts against the server's output budget, and is closed after the slow-client timeout.
extension ConnectionHandler {
    /// Answers a turn may gather before they are flushed and the connection yields: 100 readers asking
    /// for 34 kB pages each took the event loop for seconds, one connection at a time, before turns.
    static let turnOutputBytes = 64 * 1024

    /// Frames a turn may take (frames with small or no answers, such as CANCEL, cost time too).
    static let turnFrames = 1024

    /// The capacity kept for the next answers after a flush: a 4 MiB answer does not leave a 4 MiB
    /// buffer behind on every connection that ever got one.
    static let keptBufferCapacity = 64 * 1024

    func flush(context: ChannelHandlerContext) {
        guard self.responder.buffer.readableBytes > 0, self.state != .closed else { return }
        let out = self.responder.buffer
        self.responder.buffer = context.channel.allocator.buffer(
            capacity: min(max(1024, out.readableBytes), Self.keptBufferCapacity)
        )
        context.writeAndFlush(Self.wrapOutboundOut(out), promise: nil)
        // Already stalled before this write (its becoming so is reported by channelWritabilityChanged).
        if self.stalledSince != nil { self.recordStall(context: context) }
    }

    /// Ends a turn: flushes, then waits for the client to read (stalled) or for a later turn (yielded).
    func endTurn(context: ChannelHandlerContext) {
        self.flush(context: context)
        guard self.state != .closed else { return }
        guard context.channel.isWritable else {
            self.intake = .stalled
            return
        }
        self.intake = .yielded
        let queue = self.turnQueue ?? self.environment.turns.queue(for: context.eventLoop)
        self.turnQueue = queue
        queue.add(self, context: context)
    }

    /// Takes frames again: the next turn, or the client has read its answers.
    func resume(context: ChannelHandlerContext) {
        guard self.state != .closed else { return }
        self.intake = .open
        self.turnFrames = 0
        self.takeFrames(context: context)
        self.flush(context: context)
        self.watchFrameInProgress(context: context)
        self.recordInput(context: context)
        if case .open = self.intake, self.readPending {
            self.readPending = false
            context.read()
        }
    }

    /// Reads only while the connection takes frames and its client reads its answers.
    func read(context: ChannelHandlerContext) {
        if self.lingering {
            // Drained and closed on its side: reading on (and dropping) keeps the kernel from resetting
            // the connection over unread bytes, which would destroy answers the client has not read yet.
            context.read()
        } else if case .open = self.intake, context.channel.isWritable {
            context.read()
        } else {
            self.readPending = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.slowClientTimer?.cancel()
            self.slowClientTimer = nil
            self.stalledSince = nil
            self.environment.output.remove(ObjectIdentifier(self))
            switch self.intake {
            case .stalled:
                self.resume(context: context)
            case .open where self.readPending:
                self.readPending = false
                context.read()
            case .open, .yielded:
                break
            }
        } else {
            if self.stalledSince == nil { self.stalledSince = .now() }
            self.recordStall(context: context)
            if self.slowClientTimer == nil {
                // No more is read; a client that never reads again is cut off.
                self.armSlowClientTimer(context: context, at: .now() + TimeAmount(self.configuration.slowClientTimeout))
            }
        }
        context.fireChannelWritabilityChanged()
    }

    /// Closes the connection at `due` unless its client reads again first. A timer run late has a loop
    /// that was busy, and may not have seen the socket drain: it looks again after one turn of the loop
    /// (which handles the socket's events before it runs timers), and if the client took some of what
    /// was held meanwhile, the client was reading while the server was not writing: its clock starts over.
    /// - Parameter heldAtLateLook: what the socket held at the late look, for the look after it.
    private func armSlowClientTimer(context: ChannelHandlerContext, at due: NIODeadline, heldAtLateLook: Int? = nil) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.slowClientTimer = context.eventLoop.scheduleTask(deadline: due) {
            let (handler, context) = loopBound.value
            let now = NIODeadline.now()
            let held = (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
            if now - due > Self.busyLoopLateness {
                handler.armSlowClientTimer(context: context, at: now + .milliseconds(1), heldAtLateLook: held)
                return
            }
            if let heldAtLateLook, held < heldAtLateLook {
                let timeout = TimeAmount(handler.configuration.slowClientTimeout)
                handler.armSlowClientTimer(context: context, at: now + timeout)
                return
            }
            handler.slowClientTimer = nil
            handler.environment.notices.notice(
                .slowClient,
                "closing a connection whose client stopped reading its answers",
                metadata: ["peer": "\(handler.slot.peer)"]
            )
            handler.state = .closed
            context.close(promise: nil)
        }
    }

    /// Tells the output budget what this stalled connection holds: answers not yet sent, and requests
    /// held back; closes the connections the budget gives up (the longest stalled first).
    private func recordStall(context: ChannelHandlerContext) {
        guard self.state != .closed, let stalledSince = self.stalledSince else { return }
        let unsent = (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        let bytes = unsent + self.responder.buffer.readableBytes + self.accumulator.bufferedBytes
        let victims = self.environment.output.record(
            ObjectIdentifier(self),
            bytes: bytes,
            since: stalledSince,
            channel: context.channel
        )
        for victim in victims {
            self.environment.notices.notice(
                .outputBudget,
                "closing a connection whose client is not reading: answers held for slow clients are over the budget",
                metadata: ["budget_bytes": "\(self.environment.output.limit)"]
            )
            if victim === context.channel { self.state = .closed }
            victim.close(promise: nil)
        }
    }
}
