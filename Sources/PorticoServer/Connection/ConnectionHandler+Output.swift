import Logging
import NIOCore
import PorticoWire

/// Output: answers are flushed once per read batch; a client that does not read them stalls its
/// connection, which then stops taking requests, counts against the server's output budget, and is
/// closed after the slow-client timeout.
extension ConnectionHandler {
    /// Answers gathered while taking frames are flushed early past this size, and taking stops if the
    /// channel then cannot write: one read batch of small requests (up to a megabyte read at once)
    /// otherwise turned into many megabytes of answers before the client had read one.
    static let flushThreshold = 64 * 1024

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

    func flushAndPauseIfStalled(context: ChannelHandlerContext) {
        self.flush(context: context)
        if !context.channel.isWritable { self.paused = true }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.slowClientTimer?.cancel()
            self.slowClientTimer = nil
            self.stalledSince = nil
            self.environment.output.remove(ObjectIdentifier(self))
            if self.paused {
                self.paused = false
                self.takeFrames(context: context)
                self.flush(context: context)
                self.watchFrameInProgress(context: context)
            }
        } else {
            if self.stalledSince == nil { self.stalledSince = .now() }
            self.recordStall(context: context)
            if self.slowClientTimer == nil {
                // BackPressureHandler has stopped reading; a client that never reads again is cut off.
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let timeout = TimeAmount(self.configuration.slowClientTimeout)
                self.slowClientTimer = context.eventLoop.scheduleTask(in: timeout) {
                    let (handler, context) = loopBound.value
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
        }
        context.fireChannelWritabilityChanged()
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
            stalledSince: stalledSince,
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
