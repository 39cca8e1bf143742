package import NIOCore
public import PorticoCore
package import PorticoWire

/// The handlers of every RPC, for a transport outside this module (the gRPC endpoint): the dispatcher
/// the native transport calls, with the steps every transport takes before a handler, in the order
/// `FrameRouter` takes them: authenticate the caller, then hold the body to its limits, then decode.
///
/// A server's handlers are shared by both its transports (``PorticoServer/handlers``), so that a call
/// answers the same whichever port it came through, from one state and one sequence of revisions.
/// While the server loads its core, every step fails UNAVAILABLE (`LOADING`), as on the native port.
public struct PorticoHandlers: Sendable {
    let gate: CoreGate
    let startedAt = PorticoCore.SystemClock().now()

    /// The limits the handlers hold calls to (batch size), and that GetServerInfo announces.
    public let configuration: ServerConfiguration

    /// Handlers over `portico`, as a ``PorticoServer`` with the same arguments makes them.
    /// - Parameter operatorKey: the operator's secret; only its SHA-256 is kept.
    public init(portico: Portico, operatorKey: String, configuration: ServerConfiguration) {
        self.init(
            gate: CoreGate(
                Dispatcher(portico: portico, operatorKey: SecretDigest(of: operatorKey), configuration: configuration)
            ),
            configuration: configuration
        )
    }

    init(gate: CoreGate, configuration: ServerConfiguration) {
        self.gate = gate
        self.configuration = configuration
    }

    /// The dispatcher, once the core has loaded.
    /// - Throws: UNAVAILABLE (`LOADING`) before.
    private func dispatcher() throws(CallFailure) -> Dispatcher {
        guard let dispatcher = self.gate.dispatcher else { throw LoadingDispatcher.loading }
        return dispatcher
    }

    /// Hands every RPC of the service, with its handler, to a transport's registry. The handlers may be
    /// registered before the core has loaded: until it has, each call fails UNAVAILABLE (`LOADING`).
    package func register<Registry: PorticoServiceRegistry>(with registry: inout Registry)
    where Registry.Context == CallContext {
        Dispatcher.register(with: &registry) { [self] in try self.dispatcher() }
    }

    /// What GetServerInfo answers while the core loads (revision 0), as the native port does; nil once
    /// it has loaded.
    package var serverInfoWhileLoading: GetServerInfoResponse? {
        guard self.gate.dispatcher == nil else { return nil }
        return Dispatcher.serverInfo(self.configuration, revision: 0, startedAt: self.startedAt)
    }

    /// The caller `credential` stands for, acting on behalf of `person` unless it is 0.
    ///
    /// Verified on every call: a transport that cannot tell one connection from another keeps no
    /// cache of its callers (the native transport keeps one per connection).
    /// - Throws: UNAUTHENTICATED for a missing or invalid credential; PERMISSION_DENIED for a person
    ///   named by anything but a service credential; UNAVAILABLE while the core loads.
    package func authenticate(credential: String, onBehalfOf person: UInt64) throws(CallFailure) -> Caller {
        let dispatcher = try self.dispatcher()
        var callers = CallerCache()
        do {
            return try dispatcher.authenticate(credential: credential, onBehalfOf: person, callers: &callers)
        } catch {
            throw CallFailure(any: error)
        }
    }

    /// Waits until this node has applied the revision a read asked for (``RevisionWait``), the
    /// deadline passes, or the task is cancelled (the client goes away); then the transport runs the
    /// read's handler again.
    /// - Throws: DEADLINE_EXCEEDED when the deadline passes first; UNAVAILABLE (`REVISION_NOT_VISIBLE`)
    ///   when cancelled first.
    package func awaitRevision(_ wait: RevisionWait, until deadline: NIODeadline?) async throws(CallFailure) {
        try await self.dispatcher().awaitRevision(wait, until: deadline)
    }

    /// Holds a request's bytes to the limits they show before they are decoded (`Dispatcher.admit`).
    /// - Throws: INVALID_ARGUMENT for a batch over the limit, or bytes that are not protobuf.
    package func admit(_ method: Method, body: UnsafeRawBufferPointer) throws(CallFailure) {
        // Only a batch has limits to check here; every other call passes, loaded or not.
        guard method == .batchCheckPermissions else { return }
        do {
            try self.dispatcher().admit(method, body: body)
        } catch {
            throw CallFailure(any: error)
        }
    }
}

extension PorticoServer {
    /// The handlers this server's native port calls, for another transport to serve beside it; they
    /// answer LOADING until the server has loaded its core.
    public var handlers: PorticoHandlers {
        PorticoHandlers(gate: self.environment.gate, configuration: self.configuration)
    }
}
