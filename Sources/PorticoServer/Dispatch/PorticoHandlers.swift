public import PorticoCore
package import PorticoWire

/// The handlers of every RPC, for a transport outside this module (the gRPC endpoint): the dispatcher
/// the native transport calls, with the steps every transport takes before a handler, in the order
/// `FrameRouter` takes them: authenticate the caller, then hold the body to its limits, then decode.
///
/// A server's handlers are shared by both its transports (``PorticoServer/handlers``), so that a call
/// answers the same whichever port it came through, from one state and one sequence of revisions.
public struct PorticoHandlers: Sendable {
    let dispatcher: Dispatcher

    /// Handlers over `portico`, as a ``PorticoServer`` with the same arguments makes them.
    /// - Parameter operatorKey: the operator's secret; only its SHA-256 is kept.
    public init(portico: Portico, operatorKey: String, configuration: ServerConfiguration) {
        self.init(
            Dispatcher(portico: portico, operatorKey: SecretDigest(of: operatorKey), configuration: configuration)
        )
    }

    init(_ dispatcher: Dispatcher) {
        self.dispatcher = dispatcher
    }

    /// The limits the handlers hold calls to (batch size), and that GetServerInfo announces.
    public var configuration: ServerConfiguration { self.dispatcher.configuration }

    /// Hands every RPC of the service, with its handler, to a transport's registry.
    package func register<Registry: PorticoServiceRegistry>(with registry: inout Registry)
    where Registry.Context == CallContext {
        self.dispatcher.register(with: &registry)
    }

    /// The caller `credential` stands for, acting on behalf of `person` unless it is 0.
    ///
    /// Verified on every call: a transport that cannot tell one connection from another keeps no
    /// cache of its callers (the native transport keeps one per connection).
    /// - Throws: UNAUTHENTICATED for a missing or invalid credential; PERMISSION_DENIED for a person
    ///   named by anything but a service credential.
    package func authenticate(credential: String, onBehalfOf person: UInt64) throws(CallFailure) -> Caller {
        var callers = CallerCache()
        do {
            return try self.dispatcher.authenticate(credential: credential, onBehalfOf: person, callers: &callers)
        } catch {
            throw CallFailure(any: error)
        }
    }

    /// Holds a request's bytes to the limits they show before they are decoded (`Dispatcher.admit`).
    /// - Throws: INVALID_ARGUMENT for a batch over the limit, or bytes that are not protobuf.
    package func admit(_ method: Method, body: UnsafeRawBufferPointer) throws(CallFailure) {
        do {
            try self.dispatcher.admit(method, body: body)
        } catch {
            throw CallFailure(any: error)
        }
    }
}

extension PorticoServer {
    /// The handlers this server's native port calls, for another transport to serve beside it.
    public var handlers: PorticoHandlers { PorticoHandlers(self.dispatcher) }
}
