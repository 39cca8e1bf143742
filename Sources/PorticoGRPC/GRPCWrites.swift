import NIOCore
import PorticoCore
import PorticoReasons
import PorticoServer
import PorticoWire
import Synchronization

/// The writes running on the gRPC endpoint, across every connection: held to a limit, each answered by
/// its deadline while its work goes on, and let go of when the server stops waiting for them.
///
/// A write runs to its end in a task of its own, whatever the clock says: a write the core has taken is
/// committed (or refused) as a whole, never abandoned half-way, and its caller can learn the outcome
/// from the revision. Only its answer stops being awaited: at its deadline (DEADLINE_EXCEEDED, as on
/// the native port) or once the shutdown's grace period is over (UNAVAILABLE), so that the server's
/// handlers, and with them `run()`, can return.
///
/// HTTP/2's concurrent-stream limit does not bound the work: a client may reset a stream (or let its
/// deadline answer it) while the write it started goes on, and open the next. A write keeps its place
/// here until its work has really finished, so resetting streams cannot pile up work without bound.
final class GRPCWrites: Sendable {
    let limit: Int
    // One atomic add per write and one at its end; reads and checks never come here.
    private let running = Atomic<Int>(0)
    private let waiting = Mutex(Waiting())

    private struct Waiting {
        var answers: [Int: any Abandonable] = [:]
        var next = 0
        var abandoned = false
    }

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Writes whose work is running now (answered or not).
    var inFlight: Int { self.running.load(ordering: .relaxed) }

    /// Runs `work` in a task of its own and returns its result, or fails once `deadline` passes or the
    /// server stops waiting, whichever comes first.
    /// - Throws: RESOURCE_EXHAUSTED when `limit` writes are running already; DEADLINE_EXCEEDED;
    ///   UNAVAILABLE once the server has stopped waiting; else what `work` throws.
    func run<Value: Sendable>(
        until deadline: NIODeadline?,
        timers: any EventLoopGroup,
        _ work: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        guard self.running.add(1, ordering: .relaxed).newValue <= self.limit else {
            self.running.subtract(1, ordering: .relaxed)
            throw CallFailure(.resourceExhausted, "too many calls in flight on this server", reason: .tooManyCalls)
        }
        let answer = FirstAnswer<Value>()
        let id: Int? = self.waiting.withLock { waiting in
            guard !waiting.abandoned else { return nil }
            waiting.next += 1
            waiting.answers[waiting.next] = answer
            return waiting.next
        }
        guard let id else {
            self.running.subtract(1, ordering: .relaxed)
            throw Self.stopped
        }
        defer { self.waiting.withLock { _ = $0.answers.removeValue(forKey: id) } }
        return try await withCheckedThrowingContinuation { continuation in
            answer.wait(with: continuation)
            let timer = deadline.map { deadline in
                timers.any().scheduleTask(deadline: deadline) {
                    answer.give(
                        .failure(
                            CallFailure(.deadlineExceeded, "the call's deadline passed", reason: .deadlineExceeded))
                    )
                }
            }
            Task {
                let result: Result<Value, any Error>
                do {
                    result = .success(try await work())
                } catch {
                    result = .failure(error)
                }
                self.running.subtract(1, ordering: .relaxed)
                timer?.cancel()
                answer.give(result)
            }
        }
    }

    /// Stops waiting for every write, now and later: each is answered UNAVAILABLE while its work goes
    /// on (the shutdown's grace period is over).
    func abandonAll() {
        let answers = self.waiting.withLock { waiting in
            waiting.abandoned = true
            return Array(waiting.answers.values)
        }
        for answer in answers { answer.abandon(Self.stopped) }
    }

    private static let stopped = CallFailure(
        .unavailable,
        "the server stopped before the write finished; its outcome shows in the revision",
        reason: .goingAway
    )
}

/// An answer a shutdown can give up waiting for, whatever its type.
private protocol Abandonable: Sendable {
    func abandon(_ failure: CallFailure)
}

extension FirstAnswer: Abandonable {
    func abandon(_ failure: CallFailure) {
        self.give(.failure(failure))
    }
}
