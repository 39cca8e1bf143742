import Logging
import NIOCore
import PorticoReasons
import PorticoWire

/// The watchdog: one timer per connection, armed only while something is due, for the time limits that
/// reads alone cannot enforce. The idle timeout counts from the last byte read, so a client sending a
/// byte every two seconds reset it for ever; these count from when a frame began:
///
/// - the preface must arrive whole within the frame timeout of the connection opening;
/// - a frame must arrive whole within the frame timeout of its first byte;
/// - a connection that has sent no call within the first-call timeout is closed (an idle connection
///   that never called held a connection's place for the whole idle timeout).
extension ConnectionHandler {
    /// Starts the preface's clock and the first call's, at the connection's start.
    func startWatchdog(context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        self.frameStartedAt = now
        self.firstCallDeadline = now + TimeAmount(self.configuration.firstCallTimeout)
        self.armWatchdog(context: context)
    }

    /// After a read: if it ends inside a frame, that frame's clock runs from now unless it was already
    /// running for the same frame; if it ends on a frame boundary, no frame is in progress.
    func watchFrameInProgress(context: ChannelHandlerContext) {
        defer { self.tookFrame = false }
        guard self.accumulator.bufferedBytes > 0 || self.accumulator.isAwaitingPreface else {
            self.frameStartedAt = nil
            return
        }
        // The clock of a frame taken meanwhile, or one stopped while the connection held its frames, ends here.
        guard self.frameStartedAt == nil || self.tookFrame else { return }
        self.frameStartedAt = .now()
        self.armWatchdog(context: context)
    }

    /// Arms the timer for the earliest time limit due, unless it is armed for that already or earlier.
    private func armWatchdog(context: ChannelHandlerContext) {
        guard let due = self.nextDue() else { return }
        if let armedAt = self.watchdogAt, armedAt <= due, self.watchdog != nil { return }
        self.watchdog?.cancel()
        self.watchdogAt = due
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.watchdog = context.eventLoop.scheduleTask(deadline: due) {
            let (handler, context) = loopBound.value
            handler.watchdogFired(context: context)
        }
    }

    private func nextDue() -> NIODeadline? {
        let frameDue = self.frameStartedAt.map { $0 + TimeAmount(self.configuration.frameTimeout) }
        switch (frameDue, self.firstCallDeadline) {
        case (let frame?, let call?): return min(frame, call)
        case (let frame?, nil): return frame
        case (nil, let call?): return call
        case (nil, nil): return nil
        }
    }

    private func watchdogFired(context: ChannelHandlerContext) {
        self.watchdog = nil
        self.watchdogAt = nil
        guard self.state != .closed else { return }
        let now = NIODeadline.now()
        if let started = self.frameStartedAt, now >= started + TimeAmount(self.configuration.frameTimeout) {
            if self.intake != .open {
                // The frames waiting are whole ones the server held back; the client is not at fault.
                self.frameStartedAt = now
            } else {
                let what = self.accumulator.isAwaitingPreface ? "the preface" : "a frame"
                self.protocolViolation(
                    context: context,
                    WireError(
                        code: .deadlineExceeded,
                        reason: .frameTimeout,
                        message: "\(what) did not arrive whole within \(self.configuration.frameTimeout)"
                    )
                )
                return
            }
        }
        if let deadline = self.firstCallDeadline, now >= deadline {
            self.firstCallDeadline = nil
            self.logger.debug("closing a connection that sent no call")
            self.startDraining(
                context: context,
                status: .unavailable,
                message: "no call within \(self.configuration.firstCallTimeout) of connecting"
            )
            guard self.state == .open else { return }
        }
        self.armWatchdog(context: context)
    }
}
