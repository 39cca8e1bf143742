/// The phases of the gRPC endpoint, and the moves between them; a move the lifecycle does not allow
/// throws, so that a server is run once and a shutdown is begun once.
public enum GRPCServerPhase: Sendable, Hashable {
    /// Made, not run yet.
    case idle
    /// `run()` is binding the listener.
    case starting
    /// Taking calls.
    case serving
    /// Shutting down: GOAWAY sent, calls in flight finishing within the grace period.
    case draining
    /// Stopped: the listener and every connection are closed.
    case stopped
}

/// A move the gRPC endpoint's lifecycle does not allow.
public struct GRPCServerLifecycleError: Error, Hashable, Sendable, CustomStringConvertible {
    public let phase: GRPCServerPhase
    public let action: String

    public var description: String { "the gRPC endpoint cannot \(self.action) while \(self.phase)" }
}

struct GRPCServerLifecycle {
    private(set) var phase = GRPCServerPhase.idle

    mutating func start() throws {
        guard self.phase == .idle else { throw GRPCServerLifecycleError(phase: self.phase, action: "run again") }
        self.phase = .starting
    }

    /// The listener is bound. Returns false when a shutdown began meanwhile.
    mutating func listening() -> Bool {
        guard self.phase == .starting else { return false }
        self.phase = .serving
        return true
    }

    /// Begins a shutdown; returns false when one has begun already or the endpoint never ran.
    mutating func beginDraining() -> Bool {
        switch self.phase {
        case .starting, .serving:
            self.phase = .draining
            return true
        case .idle:
            self.phase = .stopped
            return false
        case .draining, .stopped:
            return false
        }
    }

    mutating func stopped() {
        self.phase = .stopped
    }
}
