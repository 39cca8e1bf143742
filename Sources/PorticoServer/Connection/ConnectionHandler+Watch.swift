import NIOCore
import PorticoCore
import PorticoReasons
import PorticoWire

/// One Watch stream of a connection: its feed, what it has written that the socket has not taken yet,
/// and whether it waits for the client (catching up) or for the next change (caught up). Touched only
/// on the connection's event loop.
final class WatchStream {
    let callID: UInt64
    /// Tells this stream from a later one with the same call id, in callbacks scheduled before it ended.
    let generation: UInt64
    let method: Method
    let started: NIODeadline?
    var feed: WatchFeed
    /// Bytes of items written to the channel that the socket has not taken yet.
    var unsent = 0
    /// Set once the stream has sent every change up to the head: from then on, a client that lets the
    /// buffer fill ends its stream, since the writers go on without it.
    var live = false
    /// Catching up, over the buffer: waits for the socket to take half of it.
    var paused = false
    var pumpScheduled = false
    /// Waits for the next publication while the stream is caught up.
    var waiter: Task<Void, Never>?

    init(callID: UInt64, generation: UInt64, method: Method, started: NIODeadline?, feed: WatchFeed) {
        self.callID = callID
        self.generation = generation
        self.method = method
        self.started = started
        self.feed = feed
    }
}

@available(*, unavailable)
extension WatchStream: Sendable {}

/// Watch streams: each is a call in flight (it counts against the connection's, the address's and the
/// server's limits of calls in flight until it ends, and holds its call id), drained page by page on the
/// event loop into STREAM_ITEM frames.
///
/// A stream holds its cursor and the bytes its socket has not taken, nothing more: every page is read
/// from the snapshot published at that moment, so writers never wait for a watcher. A turn of a stream
/// writes at most `watchTurnPages` pages, then yields the event loop to the connection's other work
/// and to other connections. The stream ends with a final RESPONSE frame whose `ErrorDetail` carries
/// the revision to resume from, or, when the client cancels it, without one.
extension ConnectionHandler {
    /// Events per page read from the audit log.
    static let watchPageEvents = 100
    /// Pages a stream writes per turn of the event loop.
    static let watchTurnPages = 16

    func startStream(_ head: CallHead, _ feed: WatchFeed, started: NIODeadline?, context: ChannelHandlerContext) {
        self.nextGeneration &+= 1
        let stream = WatchStream(
            callID: head.callID, generation: self.nextGeneration, method: head.method, started: started, feed: feed)
        self.running += 1
        var timer: Scheduled<Void>?
        if let deadline = head.deadline {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let (callID, generation) = (stream.callID, stream.generation)
            timer = context.eventLoop.scheduleTask(deadline: deadline) {
                let (handler, context) = loopBound.value
                guard let stream = handler.stream(callID, generation) else { return }
                let failure = CallFailure(.deadlineExceeded, "the stream's deadline passed", reason: .deadlineExceeded)
                handler.endStream(stream, failure, context: context)
            }
        }
        self.pending[head.callID] = PendingCall(
            generation: stream.generation, timer: timer, method: head.method, started: started)
        self.streams[head.callID] = stream
        self.schedulePump(stream, context: context)
    }

    /// The open stream of `callID`, if it is still the one of `generation`.
    func stream(_ callID: UInt64, _ generation: UInt64) -> WatchStream? {
        guard let stream = self.streams[callID], stream.generation == generation else { return nil }
        return stream
    }

    /// Pumps `stream` in a later turn of the event loop (never inside the turn that takes frames).
    func schedulePump(_ stream: WatchStream, context: ChannelHandlerContext) {
        guard !stream.pumpScheduled else { return }
        stream.pumpScheduled = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let (callID, generation) = (stream.callID, stream.generation)
        context.eventLoop.execute {
            let (handler, context) = loopBound.value
            guard let stream = handler.stream(callID, generation) else { return }
            stream.pumpScheduled = false
            handler.pump(stream, context: context)
        }
    }

    /// Writes the stream's next pages: until it has caught up (then it waits for a change), its buffer
    /// is full (catching up: it waits for the client; caught up: it ends), or its turn is over.
    private func pump(_ stream: WatchStream, context: ChannelHandlerContext) {
        guard case .open = self.state, !stream.paused, stream.waiter == nil else { return }
        let limit = self.configuration.watchBufferBytes
        let start = self.responder.buffer.writerIndex
        var written: Int { self.responder.buffer.writerIndex - start }
        var caughtUp = false
        for _ in 0..<Self.watchTurnPages {
            if !stream.live, stream.unsent + written >= limit {
                stream.paused = true
                break
            }
            let before = stream.feed.cursor
            let page: (events: [PorticoCore.AuditEvent], snapshot: AccessSnapshot)
            do {
                page = try stream.feed.next(limit: Self.watchPageEvents)
            } catch {
                self.flushStream(stream, bytes: written, context: context)
                self.endStream(stream, CallFailure(any: error), resumeAfter: before, context: context)
                return
            }
            if page.events.isEmpty {
                guard stream.feed.cursor >= page.snapshot.revision else { continue }  // a filtered stretch
                stream.live = true
                caughtUp = true
                break
            }
            if stream.live, stream.unsent + written >= limit {
                self.flushStream(stream, bytes: written, context: context)
                let failure = CallFailure(
                    .resourceExhausted,
                    "the watcher left more than \(limit) bytes of changes unread; resume after revision \(before)",
                    reason: .watchTooSlow)
                self.endStream(stream, failure, resumeAfter: before, context: context)
                return
            }
            for event in page.events {
                do {
                    try Frame.write(
                        header: FrameHeader(kind: .streamItem, callID: stream.callID),
                        message: Dispatcher.watchEvent(event, page.snapshot),
                        into: &self.responder.buffer,
                        arena: self.responder.arena,
                        maxBytes: self.configuration.maxFrameBytes
                    )
                } catch {
                    self.flushStream(stream, bytes: written, context: context)
                    let failure = CallFailure(
                        .internal, "change \(event.revision) cannot be sent: \(error)", reason: .encodingFailed)
                    self.endStream(stream, failure, resumeAfter: event.revision - 1, context: context)
                    return
                }
            }
        }
        self.flushStream(stream, bytes: written, context: context)
        if caughtUp {
            self.awaitChange(stream, context: context)
        } else if !stream.paused {
            self.schedulePump(stream, context: context)
        }
    }

    /// Flushes what the stream wrote, counting it as unsent until the socket has taken it.
    private func flushStream(_ stream: WatchStream, bytes: Int, context: ChannelHandlerContext) {
        guard bytes > 0 else { return }
        stream.unsent += bytes
        let promise = context.eventLoop.makePromise(of: Void.self)
        self.flush(context: context, promise: promise)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let (callID, generation) = (stream.callID, stream.generation)
        let resumeBelow = self.configuration.watchBufferBytes / 2
        promise.futureResult.whenComplete { _ in
            let (handler, context) = loopBound.value
            guard let stream = handler.stream(callID, generation) else { return }
            stream.unsent -= bytes
            if stream.paused, stream.unsent < resumeBelow {
                stream.paused = false
                handler.schedulePump(stream, context: context)
            }
        }
    }

    /// Waits, off the event loop, for a revision after the stream's cursor, then pumps it again.
    private func awaitChange(_ stream: WatchStream, context: ChannelHandlerContext) {
        let feed = stream.feed
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let (callID, generation) = (stream.callID, stream.generation)
        stream.waiter = Task {
            do {
                try await feed.changed()
            } catch {
                return  // cancelled: the stream ended
            }
            eventLoop.execute {
                let (handler, context) = loopBound.value
                guard let stream = handler.stream(callID, generation) else { return }
                stream.waiter = nil
                handler.pump(stream, context: context)
            }
        }
    }

    /// Ends `stream`: with a final frame carrying `failure` and the revision to resume from, or (a
    /// cancelled stream, `failure` nil) without one. It leaves the calls in flight at once.
    func endStream(
        _ stream: WatchStream,
        _ failure: CallFailure?,
        resumeAfter revision: UInt64? = nil,
        context: ChannelHandlerContext
    ) {
        guard self.stream(stream.callID, stream.generation) != nil else { return }
        self.streams.removeValue(forKey: stream.callID)
        self.release(stream)
        if let call = self.pending.removeValue(forKey: stream.callID) { call.timer?.cancel() }
        if let failure, self.state != .closed {
            self.responder.fail(
                stream.callID, Dispatcher.streamEnd(failure, resumeAfter: revision ?? stream.feed.cursor))
            self.session.telemetry?.answered(
                stream.callID, stream.method, self.responder.lastStatus, since: stream.started)
            self.flush(context: context)
        }
        self.closeIfDrained(context: context)
        self.releaseSlotIfDone()
    }

    /// A draining connection ends its streams, each with the revision to resume from (on another node,
    /// or here once the server is back).
    func endStreamsForDrain(context: ChannelHandlerContext) {
        for stream in self.streams.values.sorted(by: { $0.callID < $1.callID }) {
            let failure = CallFailure(.unavailable, "the server is shutting down", reason: .goingAway)
            self.endStream(stream, failure, context: context)
        }
    }

    /// The connection closed: its streams end with it (their pending entries are gone already).
    func dropStreams() {
        for stream in self.streams.values { self.release(stream) }
        self.streams.removeAll()
    }

    /// Stops the stream's waiting and gives its place among the calls in flight back.
    private func release(_ stream: WatchStream) {
        stream.waiter?.cancel()
        stream.waiter = nil
        self.running -= 1
        self.environment.calls.release(self.slot.peerCalls)
    }
}
