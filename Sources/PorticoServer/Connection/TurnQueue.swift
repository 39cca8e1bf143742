import NIOCore
import Synchronization

/// The connections of one event loop that have used up a turn and wait for the next, served one turn
/// each per pass, with the loop's I/O between passes.
///
/// A task submitted with `execute` (or due on a timer) does not wait for I/O: the loop runs every task
/// that is ready, including those added meanwhile, before it polls its sockets again. A connection that
/// rescheduled itself after each turn therefore went on until it stalled, and 100 such connections held
/// a loop for seconds. Here one drain task serves the waiting connections once each, and the next drain
/// is scheduled only after it ends, a little in the future, so that the loop polls in between.
final class TurnQueue {
    /// How far past the end of a pass the next one is due: enough for the loop to find nothing ready
    /// and poll its sockets first.
    static let gap = TimeAmount.microseconds(50)

    private let eventLoop: any EventLoop
    private var waiting: [(ConnectionHandler, ChannelHandlerContext)] = []
    private var draining = false
    private var scheduled = false

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Queues `handler` for a turn in the next pass.
    func add(_ handler: ConnectionHandler, context: ChannelHandlerContext) {
        self.waiting.append((handler, context))
        self.scheduleIfNeeded()
    }

    private func scheduleIfNeeded() {
        guard !self.draining, !self.scheduled, !self.waiting.isEmpty else { return }
        self.scheduled = true
        let bound = NIOLoopBound(self, eventLoop: self.eventLoop)
        self.eventLoop.scheduleTask(in: Self.gap) { bound.value.drain() }
    }

    private func drain() {
        self.scheduled = false
        self.draining = true
        let pass = self.waiting
        self.waiting = []
        for (handler, context) in pass { handler.resume(context: context) }
        self.draining = false
        self.scheduleIfNeeded()
    }
}

@available(*, unavailable)
extension TurnQueue: Sendable {}

/// The turn queue of each event loop, made on first use.
final class TurnQueues: Sendable {
    private let queues = Mutex<[ObjectIdentifier: NIOLoopBound<TurnQueue>]>([:])

    /// The queue of `eventLoop`; call on that loop (a connection does, once, when it first yields).
    func queue(for eventLoop: any EventLoop) -> TurnQueue {
        self.queues.withLock { queues in
            let key = ObjectIdentifier(eventLoop)
            if let queue = queues[key] { return queue.value }
            let queue = TurnQueue(eventLoop: eventLoop)
            queues[key] = NIOLoopBound(queue, eventLoop: eventLoop)
            return queue
        }
    }
}
