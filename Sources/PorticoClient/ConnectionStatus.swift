import Synchronization

/// Whether a connection takes new calls, readable from any thread so that the pool can pick one
/// without hopping onto its event loop. Written by the connection's handler on its event loop.
final class ConnectionStatus: Sendable {
    enum Value: UInt8 {
        /// Takes new calls.
        case open = 0
        /// The server sent GOAWAY: calls already taken are answered, new ones go elsewhere.
        case goingAway = 1
        /// The channel is closed or closing.
        case closed = 2
    }

    private let raw = Atomic<UInt8>(Value.open.rawValue)

    var value: Value {
        Value(rawValue: self.raw.load(ordering: .acquiring)) ?? .closed
    }

    /// Moves to `value` unless the status is already further along (open, going away, closed).
    func advance(to value: Value) {
        _ = self.raw.max(value.rawValue, ordering: .acquiringAndReleasing)
    }
}
