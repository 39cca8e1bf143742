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

    /// Later than every real time: what an assignment without expiry expires at. Computed, not a
    /// stored `static let`, so that the check reads no lazily initialised global (a `swift_once` call).
    @inlinable
    public static var never: Timestamp { Timestamp(milliseconds: .max) }

    /// The time in UTC as ISO 8601, to the millisecond (`2025-06-15T14:13:20.000Z`), for explanations
    /// and audit text.
    public var iso8601: String {
        let (days, rest) = milliseconds.quotientAndRemainder(dividingBy: 86_400_000)
        let (day, msOfDay) = rest < 0 ? (days - 1, rest + 86_400_000) : (days, rest)
        // Civil from days (Howard Hinnant's algorithm): proleptic Gregorian, days since 1970-01-01.
        let z = day + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let dayOfMonth = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let (hours, minuteRest) = msOfDay.quotientAndRemainder(dividingBy: 3_600_000)
        let (minutes, secondRest) = minuteRest.quotientAndRemainder(dividingBy: 60_000)
        let (seconds, millis) = secondRest.quotientAndRemainder(dividingBy: 1000)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(dayOfMonth, 2))T\(pad(hours, 2)):\(pad(minutes, 2)):"
            + "\(pad(seconds, 2)).\(pad(millis, 3))Z"
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
