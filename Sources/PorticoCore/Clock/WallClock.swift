import Foundation
import Synchronization

/// A point in wall-clock time, in milliseconds since 1970 (UTC).
public struct Timestamp: Hashable, Comparable, Sendable, Codable {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// This time moved by `days` whole days.
    public func adding(days: Int) -> Timestamp {
        Timestamp(milliseconds: milliseconds + Int64(days) * 86_400_000)
    }
}

/// The source of "now" for token expiry and audit times; injectable so tests can move time.
public protocol WallClock: Sendable {
    func now() -> Timestamp
}

/// The system's real-time clock.
public struct SystemClock: WallClock {
    public init() {}

    public func now() -> Timestamp {
        // clock_gettime directly: every check asks for the time (token expiry), and Date's way there
        // costs several times the system call's own ~20 ns.
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Timestamp(milliseconds: Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000)
    }
}

/// A clock that moves only when told to, for tests and scenarios.
public final class ManualClock: WallClock {
    private let current: Mutex<Timestamp>

    public init(_ start: Timestamp = Timestamp(milliseconds: 1_750_000_000_000)) {
        current = Mutex(start)
    }

    public func now() -> Timestamp { current.withLock { $0 } }

    /// Moves the clock forward.
    public func advance(days: Int = 0, milliseconds: Int64 = 0) {
        current.withLock { $0 = Timestamp(milliseconds: $0.milliseconds + milliseconds).adding(days: days) }
    }
}
