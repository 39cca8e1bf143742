import NIOCore
import PorticoCore
import PorticoReasons
import PorticoWire
import Synchronization

/// Where connections find the dispatcher once the core has loaded.
///
/// Read under a lock only until a connection has seen it once: each connection then keeps it (see
/// `ConnectionHandler.dispatcher`), so the calls of a loaded server pay nothing for the loading phase.
final class CoreGate: Sendable {
    private let loaded: Mutex<Dispatcher?>

    init(_ dispatcher: Dispatcher?) {
        self.loaded = Mutex(dispatcher)
    }

    /// The dispatcher, once the core has loaded.
    var dispatcher: Dispatcher? { self.loaded.withLock { $0 } }

    func open(_ dispatcher: Dispatcher) {
        self.loaded.withLock { $0 = dispatcher }
    }
}

/// Answers calls while the core loads its state: every call UNAVAILABLE with reason `LOADING` (a
/// client retries it, as it would a server restarting), except GetServerInfo, which describes the
/// server (version, limits) at revision 0, so that a client can set itself up meanwhile.
struct LoadingDispatcher: Sendable {
    let configuration: ServerConfiguration
    let startedAt = PorticoCore.SystemClock().now()

    static let loading = CallFailure(
        .unavailable,
        "the server is loading its state; retry shortly",
        reason: .loading
    )

    /// Answers one call at once; nothing is ever deferred while loading.
    func answer(_ head: CallHead, responder: inout Responder) {
        if head.method == .getServerInfo {
            let info = Dispatcher.serverInfo(self.configuration, revision: 0, startedAt: self.startedAt)
            responder.succeed(head.callID, info)
        } else {
            responder.fail(head.callID, Self.loading)
        }
    }
}
