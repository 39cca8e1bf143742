import Logging
import NIOCore
import PorticoReasons
import PorticoWire

/// Input: what a connection holds of frames received in part counts against the server's input budget
/// (the input ``ConnectionByteBudget``), from the read that leaves a frame unfinished until the frame is whole or the
/// connection closes. A read that ends on a frame boundary, the common case, costs nothing here.
extension ConnectionHandler {
    /// Tells the input budget what the connection holds now; cuts the connections it gives up.
    func recordInput(context: ChannelHandlerContext) {
        guard self.state != .closed else { return }
        let held = self.accumulator.heldCapacity
        guard held > 0 else {
            if self.inputCounted {
                self.inputCounted = false
                self.environment.input.remove(ObjectIdentifier(self))
            }
            return
        }
        self.inputCounted = true
        let victims = self.environment.input.record(
            ObjectIdentifier(self),
            bytes: held,
            since: self.frameStartedAt ?? .now(),
            channel: context.channel
        )
        for victim in victims {
            if victim === context.channel {
                self.cutForInput(context: context)
            } else {
                // On the victim's own event loop: it sends its GOAWAY and closes there.
                victim.pipeline.fireUserInboundEventTriggered(InputBudgetCutEvent())
            }
        }
    }

    /// The input budget gave this connection up: GOAWAY RESOURCE_EXHAUSTED, and close.
    func cutForInput(context: ChannelHandlerContext) {
        self.inputCounted = false
        self.environment.notices.notice(
            .inputBudget,
            "closing a connection holding a partly received frame: such frames are over the input budget",
            metadata: ["budget_bytes": "\(self.environment.input.limit)", "peer": "\(self.slot.peer)"]
        )
        self.protocolViolation(
            context: context,
            WireError(
                code: .resourceExhausted,
                reason: .frameTooLarge,
                message: "frames received in part by the server are over its input budget; send each frame whole"
            ),
            logged: false
        )
    }
}
