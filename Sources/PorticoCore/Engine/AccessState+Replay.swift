import PorticoReasons

extension AccessState {
    /// How many changes replay between two progress reports.
    static let replayReportInterval = 100_000

    /// Rebuilds the state a store's changes describe, re-running each with its recorded time and secrets.
    /// - Parameters:
    ///   - base: the state the changes follow (a checkpoint's), or the empty state.
    ///   - policy: how long idempotency keys are remembered, and how many.
    ///   - progress: called every `replayReportInterval` changes and at the end, with done and total.
    /// - Throws: INTERNAL when a change does not apply or its revision does not follow.
    public static func replay(_ changes: [Change], onto base: AccessState = AccessState(),
                              policy: IdempotencyPolicy = .standard,
                              progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> AccessState {
        var state = base
        for (index, change) in changes.enumerated() {
            try state.replay(change, policy: policy)
            if (index + 1) % replayReportInterval == 0 { progress?(index + 1, changes.count) }
        }
        progress?(changes.count, changes.count)
        return state
    }

    /// Re-runs one stored change with its recorded time and secrets.
    /// In place: a command that does not apply throws before it changes anything (`apply`), so the
    /// state is unchanged when this throws.
    /// - Throws: INTERNAL (`REPLAY_MISMATCH`) when its revision does not follow or it does not apply.
    mutating func replay(_ change: Change, policy: IdempotencyPolicy = .standard) throws {
        guard change.revision == revision + 1 else {
            throw PorticoError(.internal, "stored change \(change.revision) out of order after \(revision)",
                               reason: .replayMismatch)
        }
        var context = ApplyContext(caller: change.caller, now: change.time, source: .replay(change.secretDigests))
        // The key the change was made with, remembered again as it was then.
        context.policy = policy
        context.idempotency = change.idempotency.map { .replay($0) }
        do {
            _ = try apply(change.command, &context)
        } catch {
            throw PorticoError(.internal, "stored change \(change.revision) does not replay: \(error)",
                               reason: .replayMismatch)
        }
    }
}
