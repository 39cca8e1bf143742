import Logging
import NIOCore
import PorticoReasons
import PorticoWire

/// The watchdog: one timer per connection, armed only while something is due, for the time limits that
/// reads alone cannot enforce. The idle timeout counts from the last byte read, so a client sending a
/// byte every two seconds reset it for ever; these count from when a frame began:
///
/// - the preface must arrive whole within the frame timeout of the connection opening;
/// - a frame must arrive whole within the frame timeout of its first byte, or at least at the minimum
///   rate (``minimumFrameBytesPerSecond``) counted from its first byte. The rate is what tells a slow
///   sender from a slow server: a server whose event loops are busy reads late, and a 3 MB frame sent in
///   one write was cut as if its client were trickling. The bytes read so far lower-bound what the client
///   sent, so a frame read at the minimum rate was sent at least that fast; a client sending a byte a
///   second is still cut at the frame timeout, and a large frame at the minimum rate is whole within
///   the maximum frame size over that rate (4 MiB: 256 s), its memory bounded by the input budget;
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
    private func armWatchdog(context: ChannelHandlerContext, at second: NIODeadline? = nil) {
        guard let next = self.nextDue() else { return }
        let due = second.map { max(next, $0) } ?? next
        if let armedAt = self.watchdogAt, armedAt <= due, self.watchdog != nil { return }
        self.watchdog?.cancel()
        self.watchdogAt = due
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.watchdog = context.eventLoop.scheduleTask(deadline: due) {
            let (handler, context) = loopBound.value
            handler.watchdogFired(context: context)
        }
    }

    /// The slowest a frame may arrive once the frame timeout has passed: 16 KiB/s (128 kbit/s).
    static let minimumFrameBytesPerSecond: Int64 = 16 * 1024

    /// When the frame that began at `started` is late: at the frame timeout, or later while the bytes
    /// received of it have arrived at the minimum rate.
    private func frameDue(startedAt started: NIODeadline) -> NIODeadline {
        let timeout = TimeAmount(self.configuration.frameTimeout)
        let received = Int64(self.accumulator.bufferedBytes)
        let atRate = TimeAmount.nanoseconds(received.multipliedReportingOverflow(by: 1_000_000_000).partialValue
            / Self.minimumFrameBytesPerSecond)
        return started + max(timeout, atRate)
    }

    private func nextDue() -> NIODeadline? {
        let frameDue = self.frameStartedAt.map { self.frameDue(startedAt: $0) }
        switch (frameDue, self.firstCallDeadline) {
        case (let frame?, let call?): return min(frame, call)
        case (let frame?, nil): return frame
        case (nil, let call?): return call
        case (nil, nil): return nil
        }
    }

    /// How late a timer may run before its loop counts as too busy to have read its sockets.
    static let busyLoopLateness = TimeAmount.milliseconds(20)

    private func watchdogFired(context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        let late = now - (self.watchdogAt ?? now) > Self.busyLoopLateness
        self.watchdog = nil
        self.watchdogAt = nil
        guard self.state != .closed else { return }
        if let started = self.frameStartedAt, now >= self.frameDue(startedAt: started) {
            let bytes = self.accumulator.bufferedBytes
            if self.intake != .open {
                // The frames waiting are whole ones the server held back; the client is not at fault.
                self.frameStartedAt = now
            } else if late,
                self.lateFrameLook.map({ $0.startedAt != started || $0.bytes < bytes }) ?? true
            {
                // The loop was too busy to run this timer on time, so it may not have read what the
                // client sent either. Look again after one turn of the loop, which reads what the
                // socket holds before it runs timers. The judgement is made by a timer run on time, or
                // on a loop that stays busy, by the first look again at which no more of the frame came.
                self.lateFrameLook = (started, bytes)
                self.armWatchdog(context: context, at: now + .milliseconds(1))
                return
            } else {
                let what = self.accumulator.isAwaitingPreface ? "the preface" : "a frame"
                self.protocolViolation(
                    context: context,
                    WireError(
                        code: .deadlineExceeded,
                        reason: .frameTimeout,
                        message: "\(what) did not arrive whole within \(self.configuration.frameTimeout), "
                            + "nor at \(Self.minimumFrameBytesPerSecond) bytes a second"
                    )
                )
                return
            }
        }
        if let deadline = self.firstCallDeadline, now >= deadline {
            if late && !self.firstCallLookedAgain {
                // As above: the call may be waiting in the socket, unread.
                self.firstCallLookedAgain = true
                self.armWatchdog(context: context, at: now + .milliseconds(1))
                return
            }
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
