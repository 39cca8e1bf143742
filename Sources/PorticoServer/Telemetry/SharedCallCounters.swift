package import PorticoWire
import Synchronization

/// The call figures of a transport that does not serve its calls on the server's event loops: the gRPC
/// endpoint, where grpc-swift runs each call's handler in a task of its own, on any thread, so there
/// is no loop to own a ``LoopCounters`` block. The same block, behind a lock taken once per figure.
///
/// A lock shared by every core would cost the native port's hot path, which is why that port counts per
/// loop without one; a gRPC call already spends tens of microseconds in HTTP/2 framing and tasks, to
/// which one uncontended lock adds a few dozen nanoseconds.
package final class SharedCallCounters: Sendable {
    // Safe to share: the block is only touched inside `withLock`, one thread at a time.
    private let counters = Mutex(LoopCounters())

    init() {}

    /// Counts one answered call. - Parameter nanoseconds: from the call's head read to its answer.
    package func called(_ method: Method, _ status: StatusCode, nanoseconds: Int64) {
        self.counters.withLock { $0.called(method, status, nanoseconds: nanoseconds) }
    }

    /// Counts the decisions a read answered with (one per check); nothing for any other answer.
    package func countDecisions<Response: WireMessage>(in response: Response) {
        guard response is CheckPermissionResponse || response is BatchCheckPermissionsResponse else { return }
        self.counters.withLock { $0.countDecisions(in: response) }
    }

    /// Counts one credential refused, by the reason of its failure.
    package func authenticationFailed(_ reason: String) {
        self.counters.withLock { $0.authenticationFailed(reason) }
    }

    /// A copy of the figures counted so far.
    var figures: CallFigures {
        self.counters.withLock { $0.figures }
    }
}
