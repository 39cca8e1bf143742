import Synchronization

/// The one answer of a race (work against a deadline, a shutdown, a lost connection, a cancellation):
/// the first given resumes the waiter, at once if it comes before the waiter does; later ones are
/// dropped. For work that cannot be cancelled and must not hold its caller once something else
/// decided the outcome.
public final class FirstAnswer<Value: Sendable>: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Value, any Error>)
        case given(Result<Value, any Error>)
        case done
    }

    private let state = Mutex(State.idle)

    public init() {}

    /// Hands over the waiter's continuation; resumed at once if an answer came first.
    public func wait(with continuation: CheckedContinuation<Value, any Error>) {
        let given: Result<Value, any Error>? = self.state.withLock { state in
            guard case .given(let result) = state else {
                state = .waiting(continuation)
                return nil
            }
            state = .done
            return result
        }
        if let given { continuation.resume(with: given) }
    }

    /// Answers, unless an answer was given already.
    public func give(_ result: Result<Value, any Error>) {
        let waiter: CheckedContinuation<Value, any Error>? = self.state.withLock { state in
            switch state {
            case .idle:
                state = .given(result)
                return nil
            case .waiting(let continuation):
                state = .done
                return continuation
            case .given, .done:
                return nil
            }
        }
        waiter?.resume(with: result)
    }
}
