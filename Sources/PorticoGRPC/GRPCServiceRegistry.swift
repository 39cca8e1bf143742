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
    /// Where calls are counted (`transport="grpc"`); nil when the server keeps no metrics.
    let counters: SharedCallCounters?
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
        let handlers = self.handlers
        self.unary(rpc, caller: self.authenticate) { request, context in
            var current = context
            do {
                return try handle(request, &current)
            } catch let wait as RevisionWait {
                // Its min_revision is not here yet: wait for it (up to the deadline), then answer.
                try await Self.untilRPCCancelled { try await handlers.awaitRevision(wait, until: context.deadline) }
                var again = context
                return try handle(request, &again)
            }
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
        let counters = self.counters
        let authenticate = self.authenticate
        self.register(rpc) { request, server in
            do {
                let head = try Self.head(request.metadata, arrival: .now(), counters: counters)
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

    /// The handlers' context of a call: its caller, authenticated from the head, and its deadline. A
    /// credential refused is counted by its reason, as on the native port.
    private var authenticate: @Sendable (GRPCCallHead) throws(CallFailure) -> CallContext {
        { [handlers, counters] head throws(CallFailure) in
            let caller: Caller
            do throws(CallFailure) {
                caller = try handlers.authenticate(credential: head.credential, onBehalfOf: head.onBehalfOfPersonID)
            } catch {
                counters?.authenticationFailed(error.detail.reason)
                throw error
            }
            return CallContext(caller: caller, deadline: head.deadline, idempotencyKey: head.idempotencyKey)
        }
    }

    /// Registers one unary RPC: the steps around `serve` that every RPC shares. `caller` learns who
    /// calls from the call's head before a byte of the request is decoded. Every call the handler
    /// answers is counted with its status and its time from the head read to the answer made.
    private mutating func unary<RPC: PorticoRPC, Who: Sendable>(
        _ rpc: RPC.Type,
        caller: @escaping @Sendable (GRPCCallHead) throws(CallFailure) -> Who,
        _ serve: @escaping @Sendable (RPC.Request, Who) async throws -> RPC.Response
    ) {
        let counters = self.counters
        self.register(rpc) { request, _ in
            let arrival = NIODeadline.now()
            func answered(_ status: StatusCode) {
                counters?.called(RPC.method, status, nanoseconds: (NIODeadline.now() - arrival).nanoseconds)
            }
            do {
                let head = try Self.head(request.metadata, arrival: arrival, counters: counters)
                let who = try caller(head)
                let message = try await Self.single(request.messages)
                if let deadline = head.deadline, deadline <= .now() {
                    throw CallFailure(.deadlineExceeded, "the call's deadline passed", reason: .deadlineExceeded)
                }
                let response = try await serve(message, who)
                counters?.countDecisions(in: response)
                answered(.ok)
                return StreamingServerResponse(single: ServerResponse(message: response))
            } catch let error as RPCError {
                answered(StatusCode(rawValue: Int32(error.code.rawValue)) ?? .unknown)
                return StreamingServerResponse(error: error)
            } catch {
                let failure = CallFailure(any: error)
                answered(failure.code)
                return StreamingServerResponse(error: failure.rpcError)
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

    /// The call's head; an `authorization` value that is not one `Bearer` secret counts as a credential
    /// refused.
    private static func head(
        _ metadata: Metadata, arrival: NIODeadline, counters: SharedCallCounters?
    ) throws(CallFailure) -> GRPCCallHead {
        do throws(CallFailure) {
            return try GRPCCallHead(metadata: metadata, arrival: arrival)
        } catch {
            if error.code == .unauthenticated { counters?.authenticationFailed(error.detail.reason) }
            throw error
        }
    }

    /// Runs `operation` in a task that ends when the RPC is cancelled: grpc-swift tells a handler that
    /// its client went away (or the server shuts down) through its RPC cancellation handle, not by
    /// cancelling the handler's task, so a read waiting for a revision would otherwise stay parked.
    private static func untilRPCCancelled(_ operation: @escaping @Sendable () async throws -> Void) async throws {
        let work = Task { try await operation() }
        try await withTaskCancellationHandler {
            try await withRPCCancellationHandler {
                try await work.value
            } onCancelRPC: {
                work.cancel()
            }
        } onCancel: {
            work.cancel()
        }
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
