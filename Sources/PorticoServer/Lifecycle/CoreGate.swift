import NIOCore
import PorticoCore
import PorticoWire
import Synchronization

/// Where connections find the dispatcher once the core has loaded.
///
/// Read under a lock only until a connection has seen it once: each connection then keeps it (see
/// `ConnectionHandler.dispatcher`), so the calls of a loaded server pay nothing for the loading phase.
final class CoreGate: Sendable {
    private let loaded: Mutex<(any CallDispatching)?>

    init(_ dispatcher: (any CallDispatching)?) {
        self.loaded = Mutex(dispatcher)
    }

    /// The dispatcher, once the core has loaded.
    var dispatcher: (any CallDispatching)? { self.loaded.withLock { $0 } }

    func open(_ dispatcher: any CallDispatching) {
        self.loaded.withLock { $0 = dispatcher }
    }
}

/// Answers calls while the core loads its state: every call UNAVAILABLE with reason `LOADING` (a
/// client retries it, as it would a server restarting), except GetServerInfo, which describes the
/// server (version, limits) at revision 0, so that a client can set itself up meanwhile.
struct LoadingDispatcher: CallDispatching {
    let configuration: ServerConfiguration
    let startedAt = PorticoCore.SystemClock().now()

    static let loading = CallFailure(
        .unavailable,
        "the server is loading its state; retry shortly",
        reason: "LOADING"
    )

    func dispatch(_ head: CallHead, body: ByteBuffer, responder: inout Responder) -> DeferredCall? {
        if head.method == .getServerInfo {
            let info = GetServerInfoResponse(
                version: Dispatcher.version,
                protocolVersion: UInt32(WirePreface.version),
                revision: 0,
                maxFrameBytes: UInt32(clamping: self.configuration.maxFrameBytes),
                maxBatchChecks: UInt32(clamping: self.configuration.maxBatchChecks),
                startedAtUnixMicros: self.startedAt.milliseconds * 1000
            )
            responder.succeed(head.callID, info)
        } else {
            responder.fail(head.callID, Self.loading)
        }
        return nil
    }
}
