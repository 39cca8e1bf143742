import NIOCore
package import PorticoCore
import PorticoReasons
import PorticoWire

/// A read's `min_revision` that this node has not applied yet: thrown by a handler instead of an
/// answer, so that the transport can park the call until the revision arrives and run the handler
/// again (``Dispatcher/awaitRevision(_:until:)``).
///
/// Only this case leaves the event loop: a read whose revision is already there (nearly every read)
/// is answered synchronously, as before, and pays nothing for it (a thrown error is the only way in).
package struct RevisionWait: Error, Sendable {
    package let revision: Revision
}

extension Dispatcher {
    /// Waits until this node has applied `wait.revision`, the deadline passes, or the task is
    /// cancelled (the connection closes or drains; a gRPC client goes away).
    ///
    /// What waits is one entry of the publication's list, removed in each of those cases, and a call
    /// in flight of its connection, so a client can park no more reads than its calls-in-flight limit.
    /// - Throws: DEADLINE_EXCEEDED when the deadline passes first; UNAVAILABLE (`REVISION_NOT_VISIBLE`)
    ///   when the call is cancelled first.
    func awaitRevision(_ wait: RevisionWait, until deadline: NIODeadline?) async throws(CallFailure) {
        do {
            _ = try await self.portico.snapshot(
                atLeast: wait.revision, until: deadline.map(ContinuousClock.Instant.init))
        } catch let error as PorticoError where error.errorReason == .revisionNotVisible {
            throw CallFailure(
                .deadlineExceeded,
                "the call's deadline passed before this node reached revision \(wait.revision) (it is at "
                    + "\(self.portico.snapshot.revision))",
                reason: .deadlineExceeded)
        } catch {
            throw CallFailure(
                .unavailable,
                "the call ended (its connection closed or drains) before this node reached revision "
                    + "\(wait.revision) (it is at \(self.portico.snapshot.revision))",
                reason: .revisionNotVisible)
        }
    }

    /// The work of a read parked on ``RevisionWait``: wait for the revision, then run the read's
    /// handler again with its decoded request, off the event loop. The replayed call gets no token
    /// secrets verified on the connection (they belong to the event loop's thread): a check by token
    /// verifies its secret again, which only this slow path pays.
    func waitingRead<RPC: PorticoRPC>(
        _ rpc: RPC.Type, _ request: RPC.Request, caller: Caller, deadline: NIODeadline?, _ wait: RevisionWait
    ) -> DeferredCall {
        DeferredCall(waitsForRevision: true) { [self] in
            do throws(CallFailure) {
                try await self.awaitRevision(wait, until: deadline)
                var router = ReplayRouter<RPC>(
                    request: request, context: CallContext(caller: caller, deadline: deadline))
                self.route(RPC.method, to: &router)
                return router.result
            } catch {
                return .failure(error)
            }
        }
    }
}

/// Runs one read's handler with a request already decoded: the generated `route(_:to:)` hands over
/// the handler of the call's RPC, which is `RPC` (the method came from it), and no other.
struct ReplayRouter<RPC: PorticoRPC>: PorticoServiceRouter {
    typealias Handler = Dispatcher

    let request: RPC.Request
    var context: CallContext
    var result: Result<any WireMessage, CallFailure> = .failure(
        CallFailure(.internal, "the read was not replayed", reason: .`internal`))

    mutating func read<Other: PorticoRPC>(
        _ rpc: Other.Type, _ handle: (Other.Request, inout CallContext) throws -> Other.Response
    ) {
        guard let request = self.request as? Other.Request else { return }
        do {
            self.result = .success(try handle(request, &self.context))
        } catch {
            self.result = .failure(CallFailure(any: error))
        }
    }

    mutating func open<Other: PorticoRPC>(_ rpc: Other.Type, _ handle: (Other.Request) throws -> Other.Response) {}

    mutating func write<Other: PorticoRPC>(
        _ rpc: Other.Type, _ handle: @escaping @Sendable (Other.Request, CallContext) async throws -> Other.Response
    ) {}

    mutating func unknown(_ method: Method) {}
}
