/// Told of every batch of changes the sequencer commits, or fails to commit, once it is settled: the
/// server's log of writes and its store metrics.
///
/// Called on the commit path, once per batch, after the batch's writers were answered and before the
/// next batch is written: an observer does little (a log line per change, a few histogram records).
public protocol CommitObserver: Sendable {
    /// The store holds `changes` and their snapshot answers checks.
    /// - Parameters:
    ///   - storeTime: the store's `append` (the group commit).
    ///   - publishTime: from the store's answer to the snapshot published.
    func committed(_ changes: [Change], storeTime: Duration, publishTime: Duration)

    /// The store refused `changes` (and the changes queued behind them were refused with them).
    func commitFailed(_ changes: [Change], error: any Error, storeTime: Duration)
}
