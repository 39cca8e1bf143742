import Logging
import NIOCore
import PorticoWire

/// What one connection reports about its calls: its event loop's counters (when the server keeps
/// metrics), a debug line per call, and an info line per credential refused. Lives on the connection's
/// event loop, like the connection.
final class ConnectionTelemetry {
    /// The counters of the connection's loop; nil when the server keeps no metrics.
    let counters: LoopCounters?
    /// The connection's logger (it carries the peer's address).
    let logger: Logger
    /// Whether a line per call is logged (`debug`): decided once, so that a call pays one branch.
    let logsCalls: Bool
    /// Whether calls are timed: for the latency histogram or the call lines.
    let timesCalls: Bool
    /// A client that sends the same bad credential in a loop gets one line, then one per interval
    /// with the repeats left out (every refusal is counted in the metrics all the same).
    private var refusedNotices: NoticeThrottle

    init(counters: LoopCounters?, logger: Logger, noticeInterval: TimeAmount) {
        self.counters = counters
        self.logger = logger
        self.logsCalls = logger.logLevel <= .debug
        self.timesCalls = counters != nil || self.logsCalls
        self.refusedNotices = NoticeThrottle(interval: noticeInterval)
    }

    /// When a call began, if calls are timed.
    @inline(__always)
    func start() -> NIODeadline? {
        self.timesCalls ? .now() : nil
    }

    /// One call answered with `status`.
    @inline(__always)
    func answered(_ callID: UInt64, _ method: Method, _ status: StatusCode, since start: NIODeadline?) {
        guard let start else { return }
        let nanoseconds = (NIODeadline.now() - start).nanoseconds
        self.counters?.called(method, status, nanoseconds: nanoseconds)
        if self.logsCalls {
            self.logger.debug(
                "call",
                metadata: [
                    "call": "\(callID)",
                    "method": "\(Exposition.methodLabels[CallFigures.row(of: method)])",
                    "status": "\(Exposition.statusLabels[Int(status.rawValue)])",
                    "duration_us": "\(nanoseconds / 1000)",
                ]
            )
        }
    }

    /// A call's credential was refused: counted, and logged with what may be told of the credential
    /// (its kind and record id, never a byte of its secret).
    func authenticationFailed(credential: String, reason: String) {
        self.counters?.authenticationFailed(reason)
        guard self.logger.logLevel <= .info, let leftOut = self.refusedNotices.admit(now: .now()) else { return }
        var metadata = CredentialShape(credential).logMetadata
        metadata["reason"] = "\(reason)"
        if leftOut > 0 { metadata["repeats_not_logged"] = "\(leftOut)" }
        self.logger.info("authentication failed", metadata: metadata)
    }

    /// The connection closed: the refusals not logged yet, summed up in one line.
    func closed() {
        let leftOut = self.refusedNotices.drain()
        guard leftOut > 0 else { return }
        self.logger.info("authentication failed (repeated)", metadata: ["repeats_not_logged": "\(leftOut)"])
    }
}

@available(*, unavailable)
extension ConnectionTelemetry: Sendable {}

/// What a log line may say of a presented credential: its kind, from the prefix of a known shape, and
/// the record id it names. Nothing of it is kept but these two: an unknown prefix is `unknown`, never
/// echoed (it may be a secret pasted wrongly).
struct CredentialShape: Equatable {
    enum Kind: String {
        case none
        case `operator`
        case token
        case service
        case unknown
    }

    let kind: Kind
    let id: UInt64?

    init(_ credential: String) {
        let bytes = Array(credential.utf8.prefix(32))
        guard !bytes.isEmpty else {
            (self.kind, self.id) = (.none, nil)
            return
        }
        let parts = bytes.split(separator: UInt8(ascii: "_"), maxSplits: 2, omittingEmptySubsequences: false)
        switch parts.first.map({ String(decoding: $0, as: UTF8.self) }) {
        case "pok" where parts.count > 1:
            (self.kind, self.id) = (.operator, nil)
        case "ptk" where parts.count > 2:
            (self.kind, self.id) = (.token, Self.decimal(parts[1]))
        case "psk" where parts.count > 2:
            (self.kind, self.id) = (.service, Self.decimal(parts[1]))
        default:
            (self.kind, self.id) = (.unknown, nil)
        }
    }

    /// A record id: 1 to 19 decimal digits, nothing else.
    private static func decimal(_ digits: ArraySlice<UInt8>) -> UInt64? {
        guard (1...19).contains(digits.count), digits.allSatisfy({ (48...57).contains($0) }) else { return nil }
        return UInt64(String(decoding: digits, as: UTF8.self))
    }

    var logMetadata: Logger.Metadata {
        var metadata: Logger.Metadata = ["credential_kind": "\(self.kind.rawValue)"]
        if let id = self.id { metadata["credential_id"] = "\(id)" }
        return metadata
    }
}
