import Logging
import NIOCore
import Synchronization

/// Keeps a notice that a client can repeat at will (a refused call, a refused connection) from
/// becoming one log line per repeat: the first is logged, then at most one line per interval, which
/// says how many were left out since the last.
///
/// A client sending 3,000 calls over a limit wrote 3,000 lines before; now it writes one, and one
/// summary per interval while it goes on (or when its connection closes).
struct NoticeThrottle {
    let interval: TimeAmount
    /// When the last line was logged; nil before the first.
    private var loggedAt: NIODeadline?
    /// Repeats since then that were not logged.
    private(set) var suppressed = 0

    init(interval: TimeAmount) {
        self.interval = interval
    }

    /// Whether this repeat is logged, and if so how many were left out before it.
    mutating func admit(now: NIODeadline) -> Int? {
        if let loggedAt = self.loggedAt, now - loggedAt < self.interval {
            self.suppressed += 1
            return nil
        }
        defer { self.suppressed = 0 }
        self.loggedAt = now
        return self.suppressed
    }

    /// Takes the count of repeats left out, for a last summary line.
    mutating func drain() -> Int {
        defer { self.suppressed = 0 }
        return self.suppressed
    }
}

extension Logger {
    /// Logs `message` at notice level if `throttle` admits it, with the repeats left out before it.
    func notice(
        _ message: @autoclosure () -> Logger.Message,
        metadata: @autoclosure () -> Logger.Metadata = [:],
        throttle: inout NoticeThrottle
    ) {
        guard self.logLevel <= .notice, let leftOut = throttle.admit(now: .now()) else { return }
        var metadata = metadata()
        if leftOut > 0 { metadata["repeats_not_logged"] = "\(leftOut)" }
        self.notice(message(), metadata: metadata)
    }

    /// Logs how many repeats of `message` were left out since the last line, if any.
    func noticeSummary(_ message: Logger.Message, throttle: inout NoticeThrottle) {
        let leftOut = throttle.drain()
        guard leftOut > 0 else { return }
        self.notice("\(message) (repeated)", metadata: ["repeats_not_logged": "\(leftOut)"])
    }
}

/// The server's own notices about connections (refused, cut, broken): one throttle per kind, shared by
/// every event loop.
final class ServerNotices: Sendable {
    enum Kind: Int, CaseIterable {
        case refusedOverLimit
        case refusedOverAddressLimit
        case protocolViolation
        case slowClient
        case outputBudget
        case acceptFailed
    }

    private let throttles: Mutex<[NoticeThrottle]>
    let logger: Logger

    init(interval: TimeAmount, logger: Logger) {
        self.throttles = Mutex(Kind.allCases.map { _ in NoticeThrottle(interval: interval) })
        self.logger = logger
    }

    /// Logs a notice of `kind`, throttled across the whole server.
    func notice(_ kind: Kind, _ message: @autoclosure () -> Logger.Message, metadata: Logger.Metadata = [:]) {
        guard self.logger.logLevel <= .notice else { return }
        guard let leftOut = self.throttles.withLock({ $0[kind.rawValue].admit(now: .now()) }) else { return }
        var metadata = metadata
        if leftOut > 0 { metadata["repeats_not_logged"] = "\(leftOut)" }
        self.logger.notice(message(), metadata: metadata)
    }
}
