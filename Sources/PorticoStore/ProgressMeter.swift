/// Turns counts of work done into progress lines with an estimate of the time left, at most one line
/// per interval (and always the last), for the long phases of start-up, import and export.
///
/// Used from one thread at a time (not Sendable): each phase makes its own.
public final class ProgressMeter {
    private let what: String
    private let interval: Duration
    private let report: (String) -> Void
    private let started = ContinuousClock.now
    private var lastReport: ContinuousClock.Instant?
    private var finished = false

    /// - Parameters:
    ///   - what: the phase, e.g. `replaying the log`.
    ///   - interval: the least time between two lines.
    ///   - report: where lines go (a log, standard output).
    public init(_ what: String, interval: Duration = .seconds(1), report: @escaping (String) -> Void) {
        self.what = what
        self.interval = interval
        self.report = report
    }

    /// Notes that `done` of `total` are done; reports when the interval has passed, or at the end of a
    /// phase that took longer than one interval.
    public func update(_ done: Int, _ total: Int) {
        let now = ContinuousClock.now
        let elapsed = now - started
        if done >= total {
            guard !finished else { return }
            finished = true
            if lastReport != nil || elapsed >= interval {
                report("\(what): \(done) of \(total), done in \(Self.text(elapsed))")
            }
            return
        }
        guard now - (lastReport ?? started) >= interval else { return }
        lastReport = now
        report(line(done, total, elapsed))
    }

    /// The line for `done` of `total` after `elapsed`, e.g. `reading the log: 20000 of 1000000 (2 %), about 49 s left`.
    func line(_ done: Int, _ total: Int, _ elapsed: Duration) -> String {
        let percent = total > 0 ? done * 100 / total : 0
        guard done > 0 else { return "\(what): \(done) of \(total) (\(percent) %)" }
        let left = elapsed * (Double(total - done) / Double(done))
        return "\(what): \(done) of \(total) (\(percent) %), about \(Self.text(left)) left"
    }

    static func text(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return seconds < 10 ? "\((seconds * 10).rounded() / 10) s" : "\(Int(seconds.rounded())) s"
    }
}
