import Logging
import NIOCore
import Synchronization

/// Keeps a notice that a client can repeat at will (a refused call, a refused connection) from
/// becoming one log line per repeat: the first is logged, then at most one line per interval, and the
/// number left out (``ServerNotices`` logs it when the interval ends).
///
/// A client sending 3,000 calls over a limit wrote 3,000 lines before; now it writes one, and one
/// summary per interval while it goes on.
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

    /// Takes the count of repeats left out, for a summary line.
    mutating func drain() -> Int {
        defer { self.suppressed = 0 }
        return self.suppressed
    }

    /// When the next repeat would be logged; nil before the first.
    var nextLineAt: NIODeadline? { self.loggedAt.map { $0 + self.interval } }

    /// A summary was logged at `now`: the next interval starts.
    mutating func restart(now: NIODeadline) {
        self.loggedAt = now
    }
}

/// The server's notices about connections and calls (refused, cut, broken): one throttle per kind,
/// shared by every connection of every event loop.
///
/// A throttle per connection let each new connection log its first refusal: 300 short connections over
/// the calls-in-flight limit wrote 600 lines. Here the first notice of a kind is logged; the repeats
/// within the interval are counted, and their count is logged when the interval ends (not when the next
/// one happens to come, which may be never), in a summary named after the kind rather than after the
/// last repeat, since the repeats of one kind may have different reasons. A flood gets one summary per
/// interval.
final class ServerNotices: Sendable {
    enum Kind: Int, CaseIterable {
        case refusedOverLimit
        case refusedOverAddressLimit
        case callsOverLimit
        case protocolViolation
        case slowClient
        case outputBudget
        case inputBudget
        case acceptFailed

        /// What the summary of the repeats left out says.
        var summary: String {
            switch self {
            case .refusedOverLimit: "connections refused: limit reached"
            case .refusedOverAddressLimit: "connections refused: per-address limit reached"
            case .callsOverLimit: "calls refused over the calls-in-flight limits"
            case .protocolViolation: "connections closed for breaking the protocol"
            case .slowClient: "connections closed whose clients stopped reading their answers"
            case .outputBudget: "connections closed over the output budget"
            case .inputBudget: "connections closed over the input budget"
            case .acceptFailed: "connections not accepted"
            }
        }
    }

    private struct State {
        var throttles: [NoticeThrottle]
        /// The summary waiting for the end of each kind's interval, if one is due.
        var summaries: [Task<Void, Never>?]
    }

    private let state: Mutex<State>
    let interval: TimeAmount
    let logger: Logger

    init(interval: TimeAmount, logger: Logger) {
        self.interval = interval
        self.state = Mutex(
            State(
                throttles: Kind.allCases.map { _ in NoticeThrottle(interval: interval) },
                summaries: Kind.allCases.map { _ in nil }
            )
        )
        self.logger = logger
    }

    /// Logs a notice of `kind`, throttled across the whole server.
    func notice(_ kind: Kind, _ message: @autoclosure () -> Logger.Message, metadata: Logger.Metadata = [:]) {
        guard self.logger.logLevel <= .notice else { return }
        let now = NIODeadline.now()
        let leftOut = self.state.withLock { state -> Int? in
            guard let leftOut = state.throttles[kind.rawValue].admit(now: now) else {
                if state.summaries[kind.rawValue] == nil {
                    let delay = state.throttles[kind.rawValue].nextLineAt.map { $0 - now } ?? self.interval
                    state.summaries[kind.rawValue] = Task { [self] in
                        try? await Task.sleep(for: .nanoseconds(max(0, delay.nanoseconds)))
                        self.summarize(kind, restart: true)
                    }
                }
                return nil
            }
            return leftOut
        }
        guard let leftOut else { return }
        // Repeats the summary did not get to yet (its interval ended just now): their count first.
        if leftOut > 0 { self.logSummary(kind, leftOut) }
        self.logger.notice(message(), metadata: metadata)
    }

    /// Logs the count of `kind`'s repeats left out, if any; with `restart`, a new interval begins, so
    /// that a flood gets one summary per interval.
    private func summarize(_ kind: Kind, restart: Bool) {
        let leftOut = self.state.withLock { state -> Int in
            state.summaries[kind.rawValue] = nil
            let leftOut = state.throttles[kind.rawValue].drain()
            if restart && leftOut > 0 { state.throttles[kind.rawValue].restart(now: .now()) }
            return leftOut
        }
        if leftOut > 0 { self.logSummary(kind, leftOut) }
    }

    private func logSummary(_ kind: Kind, _ leftOut: Int) {
        self.logger.notice("\(kind.summary) (repeated)", metadata: ["repeats_not_logged": "\(leftOut)"])
    }

    /// Logs every summary due now, at shutdown.
    func summarizeAll() {
        for kind in Kind.allCases {
            self.state.withLock { $0.summaries[kind.rawValue]?.cancel() }
            self.summarize(kind, restart: false)
        }
    }
}
