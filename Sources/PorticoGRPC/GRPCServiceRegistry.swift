import GRPCCore
import NIOCore
import PorticoCore
import PorticoReasons
import PorticoServer
import PorticoWire

/// Registers every RPC of `service Portico` with grpc-swift's router, each with its handler from the
/// server's ``PorticoHandlers`` (the generated `register(with:handler:)` hands them over, so none is missed).
///
/// Every call takes the native transport's steps, in its order: read the call's head from the metadata
/// (credential, on-behalf-of person, deadline), authenticate the caller (except for the RPCs that need
/// none), hold the request's bytes to their limits and decode them (``WireDeserializer``), run the
/// handler, and answer; a failure is answered with its status and, in the trailing metadata, its
/// `ErrorDetail`.
struct GRPCServiceRegistry<Transport: ServerTransport>: PorticoServiceRegistry {
    typealias Context = CallContext
    typealias Feed = WatchFeed

    let handlers: PorticoHandlers
    let configuration: GRPCConfiguration
    let writes: GRPCWrites
    let streams: GRPCWatchStreams
    let timers: any EventLoopGroup
    var router: RPCRouter<Transport>

    mutating func open<RPC: PorticoRPC>(
        _ rpc: RPC.Type,
        _ handle: @escaping @Sendable (RPC.Request) throws -> RPC.Response
    ) {
        // Needs no credential: any given is ignored, as on the native port.
        let nobody: @Sendable (GRPCCallHead) throws(CallFailure) -> Void = { _ in }
        // While the core loads, GetServerInfo still describes the server (at revision 0), as on the
        // native port; every other call is answered LOADING.
        let describesWhileLoading = RPC.self == PorticoService.GetServerInfo.self
        let handlers = self.handlers
        self.unary(rpc, caller: nobody) { request, _ in
            if describesWhileLoading, let info = handlers.serverInfoWhileLoading as? RPC.Response { return info }
            return try handle(request)
        }
    }

    mutating func read<RPC: PorticoRPC>(
        _ rpc: RPC.Type,
        _ handle: @escaping @Sendable (RPC.Request, inout CallContext) throws -> RPC.Response
    ) {
        self.unary(rpc, caller: self.authenticate) { request, context in
            var context = context
            return try handle(request, &context)
        }
    }

    mutating func write<RPC: PorticoRPC>(
        _ rpc: RPC.Type,
        _ handle: @escaping @Sendable (RPC.Request, CallContext) async throws -> RPC.Response
    ) {
        let writes = self.writes
        let timers = self.timers
        self.unary(rpc, caller: self.authenticate) { request, context in
            try await writes.run(until: context.deadline, timers: timers) { try await handle(request, context) }
        }
    }

    mutating func stream<RPC: PorticoRPC>(
        _ rpc: RPC.Type,
        _ open: @escaping @Sendable (RPC.Request, inout CallContext) throws -> WatchFeed
    ) {
        let streams = self.streams
        let authenticate = self.authenticate
        self.register(rpc) { request, server in
            do {
                let head = try GRPCCallHead(metadata: request.metadata, arrival: .now())
                var context = try authenticate(head)
                let message = try await Self.single(request.messages)
                let feed = try open(message, &context)
                return StreamingServerResponse(of: RPC.Response.self) { writer in
                    do {
                        try await streams.serve(
                            feed, deadline: head.deadline, cancellation: server.cancellation
                        ) { event, snapshot in
                            guard let item = PorticoHandlers.watchEvent(event, snapshot) as? RPC.Response else {
                                throw CallFailure(.internal, "\(RPC.name) streams no WatchEvent", reason: .internal)
                            }
                            try await writer.write(item)
                        }
                    } catch let failure as CallFailure {
                        throw failure.rpcError
                    }
                    return [:]
                }
            } catch let error as RPCError {
                return StreamingServerResponse(error: error)
            } catch {
                return StreamingServerResponse(error: CallFailure(any: error).rpcError)
            }
        }
    }

    /// The handlers' context of a call: its caller, authenticated from the head, and its deadline.
    private var authenticate: @Sendable (GRPCCallHead) throws(CallFailure) -> CallContext {
        { [handlers] head throws(CallFailure) in
            let caller = try handlers.authenticate(credential: head.credential, onBehalfOf: head.onBehalfOfPersonID)
            return CallContext(caller: caller, deadline: head.deadline, idempotencyKey: head.idempotencyKey)
        }
    }

    /// Registers one unary RPC: the steps around `serve` that every RPC shares. `caller` learns who
    /// calls from the call's head before a byte of the request is decoded.
    private mutating func unary<RPC: PorticoRPC, Who: Sendable>(
        _ rpc: RPC.Type,
        caller: @escaping @Sendable (GRPCCallHead) throws(CallFailure) -> Who,
        _ serve: @escaping @Sendable (RPC.Request, Who) async throws -> RPC.Response
    ) {
        self.register(rpc) { request, _ in
            do {
                let head = try GRPCCallHead(metadata: request.metadata, arrival: .now())
                let who = try caller(head)
                let message = try await Self.single(request.messages)
                if let deadline = head.deadline, deadline <= .now() {
                    throw CallFailure(.deadlineExceeded, "the call's deadline passed", reason: .deadlineExceeded)
                }
                let response = try await serve(message, who)
                return StreamingServerResponse(single: ServerResponse(message: response))
            } catch let error as RPCError {
                return StreamingServerResponse(error: error)
            } catch {
                return StreamingServerResponse(error: CallFailure(any: error).rpcError)
            }
        }
    }

    /// Registers `handle` at the RPC's path, with Portico's codec: the request's bytes held to their
    /// limits before they are decoded, the answer's to the largest message.
    private mutating func register<RPC: PorticoRPC>(
        _ rpc: RPC.Type,
        _ handle:
            @escaping @Sendable (StreamingServerRequest<RPC.Request>, ServerContext) async throws
            -> StreamingServerResponse<RPC.Response>
    ) {
        let handlers = self.handlers
        self.router.registerHandler(
            forMethod: MethodDescriptor(fullyQualifiedService: RPC.service, method: RPC.name),
            deserializer: WireDeserializer<RPC.Request> { bytes throws(CallFailure) in
                try handlers.admit(RPC.method, body: bytes)
            },
            serializer: WireSerializer<RPC.Response>(maxBytes: self.configuration.maxMessageBytes),
            handler: handle
        )
    }

    /// The one request message of a unary call.
    /// - Throws: INVALID_ARGUMENT when the client sent none, or more than one.
    private static func single<Message>(_ messages: RPCAsyncSequence<Message, any Error>) async throws -> Message {
        var iterator = messages.makeAsyncIterator()
        guard let message = try await iterator.next() else {
            throw CallFailure(.invalidArgument, "the call carries no request message", reason: .malformedMessage)
        }
        guard try await iterator.next() == nil else {
            throw CallFailure(.invalidArgument, "a unary call carries one request message", reason: .malformedMessage)
        }
        return message
    }
}
