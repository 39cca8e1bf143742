/// Removes expired assignments from a core every `interval`, for as long as `run()` runs (the server
/// runs it beside the checkpointer and cancels it at shutdown).
///
/// Checks stop honouring an assignment at its expiry by themselves, so the sweep decides nothing a
/// check sees; it only turns expired grants into a recorded change (the log, the audit log) and gives
/// their memory back. An actor: one sweep at a time, its count of sweeps and failures its own state.
public actor ExpirySweeper {
    private let portico: Portico
    private let interval: Duration
    private let report: @Sendable (String) -> Void
    /// Sweeps that changed something, and sweeps that failed (the store refused): for tests and logs.
    public private(set) var changesMade = 0
    public private(set) var failures = 0

    /// - Parameter report: where a line about each sweep that changed something, or failed, goes.
    public init(portico: Portico, interval: Duration, report: @escaping @Sendable (String) -> Void = { _ in }) {
        self.portico = portico
        self.interval = max(interval, .milliseconds(1))
        self.report = report
    }

    /// Sweeps every `interval` until cancelled. A failed sweep is reported and tried again next time: the
    /// expired assignments grant nothing meanwhile.
    public func run() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: self.interval)
            } catch {
                return
            }
            await self.sweep()
        }
    }

    /// One sweep now.
    public func sweep() async {
        do {
            let results = try await self.portico.sweepExpiredAssignments()
            guard let last = results.last else { return }
            self.changesMade += results.count
            self.report(
                "expired assignments removed in \(results.count) portfolio(s), up to revision \(last.revision)")
        } catch {
            self.failures += 1
            self.report("the sweep of expired assignments failed (tried again in \(self.interval)): \(error)")
        }
    }
}
