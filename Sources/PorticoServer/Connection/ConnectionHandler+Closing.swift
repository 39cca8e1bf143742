import NIOCore

/// Closing a drained connection without losing its answers.
///
/// A GOAWAY promises that every call up to its `last_call_id` is answered. Closing the socket as soon
/// as the last answer was written broke that promise twice: answers still waiting in the channel (a
/// client reading slowly) were dropped, and closing a socket with requests still unread makes the kernel
/// send a reset, which destroys what the client has received but not yet read. So a drained connection
/// closes only its sending side, once everything written has gone (a FIN after the last answer), then
/// reads and drops whatever its client still sends until the client closes, for at most the frame
/// timeout; the server's shutdown grace period bounds it as well.
extension ConnectionHandler {
    /// Closes the connection once it is draining and every call it took is answered.
    func closeIfDrained(context: ChannelHandlerContext) {
        guard case .draining = self.state, self.pending.isEmpty else { return }
        self.flush(context: context)
        self.state = .closed
        self.lingering = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        // Completes once the answers before it have been written: the FIN follows the last of them.
        let closed = context.eventLoop.makePromise(of: Void.self)
        context.close(mode: .output, promise: closed)
        closed.futureResult.whenComplete { result in
            let (handler, context) = loopBound.value
            guard case .success = result else {
                context.close(promise: nil)
                return
            }
            handler.lingerTimer = context.eventLoop.scheduleTask(in: TimeAmount(handler.configuration.frameTimeout)) {
                let (handler, context) = loopBound.value
                handler.lingerTimer = nil
                context.close(promise: nil)
            }
            // Reads resume if they were held back while the connection did not take frames.
            if handler.readPending {
                handler.readPending = false
                context.read()
            }
        }
    }
}
