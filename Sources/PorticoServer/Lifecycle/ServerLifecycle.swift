import NIOCore

/// The phase a ``PorticoServer`` is in.
public enum ServerPhase: String, Sendable, CustomStringConvertible {
    /// Created; `run()` not called yet.
    case idle
    /// Listening, answering every call UNAVAILABLE (`LOADING`) while the core loads its state.
    case loading
    /// Listening and answering.
    case serving
    /// No longer accepting; connections answer their calls in flight, then close.
    case draining
    /// Every connection closed; `run()` has returned or is returning.
    case stopped

    public var description: String { self.rawValue }
}

/// A move the server's lifecycle does not allow, such as running a server twice.
public struct ServerLifecycleError: Error, CustomStringConvertible {
    public let from: ServerPhase
    public let action: String

    public var description: String { "a server that is \(self.from) cannot \(self.action)" }
}

/// The lifecycle of a server as a state machine: each move is a method that throws when the current
/// state does not allow it, so an impossible sequence (run twice, serve after stopping) fails loudly
/// instead of leaving a listener open. Kept behind the server's `Mutex`.
struct ServerLifecycle {
    private enum State {
        case idle
        /// `run()` was called; the listener is being bound.
        case binding
        case loading(listener: any Channel)
        case serving(listener: any Channel)
        /// The listener, if there was one, is closing; `drained` completes when the last place is given back.
        case draining
        case stopped
    }

    private var state = State.idle

    var phase: ServerPhase {
        switch self.state {
        case .idle: .idle
        case .binding, .loading: .loading
        case .serving: .serving
        case .draining: .draining
        case .stopped: .stopped
        }
    }

    /// `run()` begins. - Throws: unless idle: a server runs once.
    mutating func start() throws {
        guard case .idle = self.state else { throw self.illegal("run") }
        self.state = .binding
    }

    /// The listener is bound; the server answers, while loading or at once if `loaded`.
    /// - Returns: false if a shutdown came first: the caller closes the listener.
    mutating func bound(_ listener: any Channel, loaded: Bool) throws -> Bool {
        switch self.state {
        case .binding:
            self.state = loaded ? .serving(listener: listener) : .loading(listener: listener)
            return true
        case .draining:
            return false
        default:
            throw self.illegal("start listening")
        }
    }

    /// The core is loaded. - Returns: false if the server is draining or stopped already (it stays so).
    mutating func loaded() throws -> Bool {
        switch self.state {
        case .loading(let listener):
            self.state = .serving(listener: listener)
            return true
        case .draining, .stopped:
            return false
        default:
            throw self.illegal("finish loading")
        }
    }

    /// Shutdown begins. - Returns: the listener to close, if one is open; nil if already draining or stopped.
    mutating func beginDraining() -> (any Channel)? {
        switch self.state {
        case .idle, .binding:
            self.state = .draining
            return nil
        case .loading(let listener), .serving(let listener):
            self.state = .draining
            return listener
        case .draining, .stopped:
            return nil
        }
    }

    /// The last connection has gone. - Throws: unless draining.
    mutating func stopped() throws {
        guard case .draining = self.state else { throw self.illegal("stop") }
        self.state = .stopped
    }

    private func illegal(_ action: String) -> ServerLifecycleError {
        ServerLifecycleError(from: self.phase, action: action)
    }
}
