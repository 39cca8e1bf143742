import NIOCore
import PorticoCore
import PorticoReasons
import PorticoWire

/// The native transport's side of routing: serves one call of a connection, as the generated
/// `route(_:to:)` hands it over with the RPC and its handler.
///
/// The order is the same for every RPC: authenticate the header's credential (except for the RPCs that
/// need none), then hold the body's bytes to the limits they show (`Dispatcher.admit`), then decode and
/// check the body, then run the handler, so that a caller without a valid
/// credential costs no work in proportion to its body. A read's answer is written at once; a write
/// becomes deferred work for the connection to run, and so does a read whose `min_revision` this node
/// has not reached (``RevisionWait``).
///
/// It reaches the connection's responder and session for the length of one call, through pointers
/// `Dispatcher.dispatch` takes with `withUnsafeMutablePointer` and the router never lets escape: the
/// router is a local of that closure, so the pointers are valid for every use, and nothing else touches
/// the two values meanwhile (the dispatch holds their exclusive, inout access).
struct FrameRouter: PorticoServiceRouter {
    typealias Handler = Dispatcher

    // Unowned, not retained: the router lives only inside `Dispatcher.dispatch`, a method of this very
    // dispatcher, which therefore outlives it; a retain and release per call would buy nothing.
    unowned(unsafe) let dispatcher: Dispatcher
    let head: CallHead
    let body: ByteBuffer
    let responder: UnsafeMutablePointer<Responder>
    let session: UnsafeMutablePointer<CallSession>
    /// A write's work, a read's wait for its revision, or a stream's feed, once routed.
    var work: RoutedWork?

    mutating func open<RPC: PorticoRPC>(_ rpc: RPC.Type, _ handle: (RPC.Request) throws -> RPC.Response) {
        do {
            let request = try self.decode(RPC.Request.self)
            self.responder.pointee.succeed(self.head.callID, try handle(request))
        } catch {
            self.responder.pointee.fail(self.head.callID, CallFailure(any: error))
        }
    }

    mutating func read<RPC: PorticoRPC>(
        _ rpc: RPC.Type,
        _ handle: (RPC.Request, inout CallContext) throws -> RPC.Response
    ) {
        do {
            var context = CallContext(caller: try self.authenticate(), deadline: self.head.deadline)
            try self.dispatcher.admit(RPC.method, body: self.body)
            let request = try self.decode(RPC.Request.self)
            // The token secrets verified on this connection, lent to the handler for this call (a swap of
            // two references: nothing is copied, and the handler's additions stay with the connection).
            swap(&context.presentedTokens, &self.session.pointee.presentedTokens)
            defer { swap(&context.presentedTokens, &self.session.pointee.presentedTokens) }
            do {
                let response = try handle(request, &context)
                self.session.pointee.telemetry?.counters?.countDecisions(in: response)
                self.responder.pointee.succeed(self.head.callID, response)
            } catch let wait as RevisionWait {
                // The one read that leaves the event loop: its min_revision is not here yet.
                let deadline = self.head.deadline
                self.work = .deferred(
                    self.dispatcher.waitingRead(rpc, request, caller: context.caller, deadline: deadline, wait))
            }
        } catch {
            self.responder.pointee.fail(self.head.callID, CallFailure(any: error))
        }
    }

    mutating func write<RPC: PorticoRPC>(
        _ rpc: RPC.Type,
        _ handle: @escaping @Sendable (RPC.Request, CallContext) async throws -> RPC.Response
    ) {
        do {
            let context = CallContext(
                caller: try self.authenticate(), deadline: self.head.deadline,
                idempotencyKey: self.head.idempotencyKey.isEmpty ? nil : self.head.idempotencyKey)
            try self.dispatcher.admit(RPC.method, body: self.body)
            let request = try self.decode(RPC.Request.self)
            self.work = .deferred(
                DeferredCall {
                    do {
                        return .success(try await handle(request, context))
                    } catch {
                        return .failure(CallFailure(any: error))
                    }
                })
        } catch {
            self.responder.pointee.fail(self.head.callID, CallFailure(any: error))
        }
    }

    mutating func stream<RPC: PorticoRPC>(
        _ rpc: RPC.Type,
        _ open: (RPC.Request, inout CallContext) throws -> WatchFeed
    ) {
        do {
            var context = CallContext(caller: try self.authenticate(), deadline: self.head.deadline)
            try self.dispatcher.admit(RPC.method, body: self.body)
            let request = try self.decode(RPC.Request.self)
            self.work = .stream(try open(request, &context))
        } catch {
            self.responder.pointee.fail(self.head.callID, CallFailure(any: error))
        }
    }

    mutating func unknown(_ method: Method) {
        self.responder.pointee.fail(
            self.head.callID,
            CallFailure(.unimplemented, "method \(method.protoValueName) is not an RPC", reason: .unknownMethod)
        )
    }

    /// The caller of this call, from the connection's cache or verified now.
    private func authenticate() throws -> Caller {
        do {
            return try self.dispatcher.authenticate(
                credential: self.head.credential,
                onBehalfOf: self.head.onBehalfOfPersonID,
                callers: &self.session.pointee.callers
            )
        } catch {
            self.session.pointee.telemetry?.authenticationFailed(
                credential: self.head.credential, reason: CallFailure(any: error).detail.reason)
            throw error
        }
    }

    /// The request, decoded with the connection's scratch memory.
    /// - Throws: `CallFailure` INVALID_ARGUMENT when it does not decode.
    private func decode<M: WireMessage>(_ type: M.Type) throws(CallFailure) -> M {
        do {
            return try M(decoding: self.body, arena: self.responder.pointee.arena)
        } catch let error as WireError {
            throw CallFailure(error)
        } catch {
            throw CallFailure(.invalidArgument, "\(M.protoName) does not decode", reason: .malformedMessage)
        }
    }
}
