import NIOCore
import PorticoReasons
import PorticoWire

/// A call waiting for its answer, seen without its response type so that calls of every RPC share one table.
protocol PendingCallProtocol: AnyObject {
    /// The id the call was sent with; 0 until it is sent.
    var callID: UInt64 { get }
    /// The timer that fails the call when its deadline passes.
    var deadline: NIOScheduledCallback? { get set }
    /// Resumes the caller with the response decoded from the body of an OK answer.
    func succeed(body: ByteBuffer, arena: WireArena)
    /// Resumes the caller with `error`.
    func fail(_ error: any Error)
    /// Marks a call whose cancellation reached the event loop before the call did: it is never sent.
    func cancelBeforeSending(_ status: PorticoStatusError)
    /// Set by `cancelBeforeSending`: the status the call fails with instead of being sent.
    var cancellation: PorticoStatusError? { get }
    /// Records the id the call goes out with.
    func sent(as callID: UInt64)
    /// Whether the call is a stream, which takes STREAM_ITEM frames before its final answer.
    var streams: Bool { get }
    /// Hands the caller one item of a stream, decoded from `body`.
    /// - Returns: false when it does not decode (the call has failed then).
    func item(body: ByteBuffer, arena: WireArena) -> Bool
}

extension PendingCallProtocol {
    var streams: Bool { false }

    func item(body: ByteBuffer, arena: WireArena) -> Bool { false }
}

/// One call of `RPC`, from the moment its task asks until the task resumes.
///
/// `@unchecked Sendable`: the task creates the object and hands it to the connection's event loop
/// (through `EventLoop.execute`, which orders the hand-off); from then on every field is read and
/// written on that event loop only.
final class PendingCall<RPC: PorticoRPC>: PendingCallProtocol, @unchecked Sendable {
    private(set) var callID: UInt64 = 0
    var deadline: NIOScheduledCallback?
    /// Set when cancellation reaches the event loop before the call was sent: it is then never sent.
    private(set) var cancellation: PorticoStatusError?
    private var continuation: CheckedContinuation<RPC.Response, any Error>?

    init() {}

    /// Attaches the task waiting for the answer.
    func wait(with continuation: CheckedContinuation<RPC.Response, any Error>) {
        self.continuation = continuation
    }

    /// Records the id the call goes out with.
    func sent(as callID: UInt64) {
        self.callID = callID
    }

    func cancelBeforeSending(_ status: PorticoStatusError) {
        self.cancellation = status
    }

    func succeed(body: ByteBuffer, arena: WireArena) {
        let result: Result<RPC.Response, any Error>
        do {
            result = .success(try RPC.Response(decoding: body, arena: arena))
        } catch {
            let reason = (error as? WireError)?.message ?? "\(error)"
            result = .failure(
                PorticoStatusError(
                    code: .internal,
                    message: "the answer to call \(self.callID) (\(RPC.method.protoValueName)) does not decode as "
                        + "\(RPC.Response.protoName): \(reason)",
                    detail: ErrorDetail(reason: ErrorReason.undecodableResponse.rawValue)
                )
            )
        }
        self.finish(result)
    }

    func fail(_ error: any Error) {
        self.finish(.failure(error))
    }

    private func finish(_ result: Result<RPC.Response, any Error>) {
        self.deadline?.cancel()
        self.deadline = nil
        guard let continuation = self.continuation else { return }
        self.continuation = nil
        continuation.resume(with: result)
    }
}

/// A call the server never processed: it failed before it was written (the connection was closed or
/// going away), or it was above a GOAWAY's `last_call_id`. Retrying it on another connection is safe.
struct UnprocessedCallError: Error {
    var status: PorticoStatusError
}

/// A call that was written but whose answer will never come (the connection closed): the server may or
/// may not have processed it. Only a change with an idempotency key may be sent again.
struct LostAnswerError: Error {
    var status: PorticoStatusError
}

extension PorticoStatusError {
    /// The status a failure surfaces as to the caller, unwrapping the client's internal markers.
    static func surfaced(_ error: any Error) -> any Error {
        (error as? UnprocessedCallError)?.status ?? (error as? LostAnswerError)?.status ?? error
    }
}

/// One server stream of `RPC` (Watch): its items go to the caller's `AsyncThrowingStream` as they
/// arrive, and the final answer finishes it, with the server's status unless that is OK.
///
/// `@unchecked Sendable` for the reason `PendingCall` is: handed to the event loop once, then touched
/// only there.
final class StreamingCall<RPC: PorticoRPC>: PendingCallProtocol, @unchecked Sendable {
    private(set) var callID: UInt64 = 0
    var deadline: NIOScheduledCallback?
    private(set) var cancellation: PorticoStatusError?
    private var continuation: AsyncThrowingStream<RPC.Response, any Error>.Continuation?

    init(_ continuation: AsyncThrowingStream<RPC.Response, any Error>.Continuation) {
        self.continuation = continuation
    }

    var streams: Bool { true }

    func sent(as callID: UInt64) {
        self.callID = callID
    }

    func cancelBeforeSending(_ status: PorticoStatusError) {
        self.cancellation = status
    }

    func item(body: ByteBuffer, arena: WireArena) -> Bool {
        do {
            self.continuation?.yield(try RPC.Response(decoding: body, arena: arena))
            return true
        } catch {
            let reason = (error as? WireError)?.message ?? "\(error)"
            self.fail(
                PorticoStatusError(
                    code: .internal,
                    message: "an item of call \(self.callID) (\(RPC.method.protoValueName)) does not decode as "
                        + "\(RPC.Response.protoName): \(reason)",
                    detail: ErrorDetail(reason: ErrorReason.undecodableResponse.rawValue)
                )
            )
            return false
        }
    }

    /// The final answer of an OK stream has an empty body: the stream simply ends.
    func succeed(body: ByteBuffer, arena: WireArena) {
        self.finish(nil)
    }

    func fail(_ error: any Error) {
        self.finish(PorticoStatusError.surfaced(error))
    }

    private func finish(_ error: (any Error)?) {
        self.deadline?.cancel()
        self.deadline = nil
        guard let continuation = self.continuation else { return }
        self.continuation = nil
        continuation.finish(throwing: error)
    }
}
