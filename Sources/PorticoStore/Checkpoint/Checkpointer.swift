public import PorticoCore
import Synchronization

/// Writes checkpoints of a core's published state as its log grows, so that start-up replays only
/// the changes after the newest: every `changes` changes, and every `interval` when anything changed,
/// whichever comes first; the server also asks for one at a clean shutdown.
///
/// The published snapshot is durable (it is published only after the store holds it) and immutable,
/// so the checkpoint is written beside the server on the store's checkpoint queue: checks and writes
/// go on meanwhile. The store is SQLite, or a node's data directory beside the PostgreSQL log.
public final class Checkpointer: Sendable {
    /// When to write one.
    public struct Policy: Sendable {
        /// Changes since the last checkpoint that make a new one due; 0 for none on that count.
        public var changes: Int
        /// Time since the last checkpoint that makes a new one due if anything changed; nil for none.
        public var interval: Duration?

        public init(changes: Int = 100_000, interval: Duration? = .seconds(600)) {
            self.changes = changes
            self.interval = interval
        }
    }

    private let store: any CheckpointingStore
    private let portico: Portico
    private let policy: Policy
    private let report: @Sendable (String) -> Void
    /// The revision of the newest checkpoint written or found; Mutex makes it safe to share.
    private let last: Mutex<Revision>

    /// - Parameter report: where a line about each checkpoint (and each failure) goes.
    public init(store: any CheckpointingStore, portico: Portico, policy: Policy = Policy(),
                report: @escaping @Sendable (String) -> Void = { _ in }) {
        self.store = store
        self.portico = portico
        self.policy = policy
        self.report = report
        last = Mutex(store.checkpoints?.list().first?.revision ?? 0)
    }

    /// The revision of the newest checkpoint.
    public var lastRevision: Revision { last.withLock { $0 } }

    /// Checks every `poll` whether a checkpoint is due and writes it; returns when cancelled.
    public func run(poll: Duration = .seconds(1)) async {
        var since = ContinuousClock.now
        while !Task.isCancelled {
            do { try await Task.sleep(for: poll) } catch { return }
            let behind = portico.snapshot.revision - lastRevision
            let byCount = policy.changes > 0 && behind >= UInt64(policy.changes)
            let byTime = policy.interval.map { behind > 0 && ContinuousClock.now - since >= $0 } ?? false
            if byCount || byTime {
                await checkpointNow()
                since = ContinuousClock.now
            }
        }
    }

    /// Writes a checkpoint of the published state, unless the newest one is at its revision already.
    /// - Returns: whether it wrote one (a failure is reported, not thrown: the log still holds everything).
    @discardableResult
    public func checkpointNow() async -> Bool {
        let state = portico.snapshot.state
        guard state.revision > lastRevision else { return false }
        let started = ContinuousClock.now
        do {
            let (path, bytes) = try await store.writeCheckpoint(state, now: portico.clock.now())
            last.withLock { $0 = max($0, state.revision) }
            report("checkpoint at revision \(state.revision) written to \(path) (\(bytes) bytes in "
                   + "\(ProgressMeter.text(ContinuousClock.now - started)))")
            return true
        } catch {
            report("checkpoint at revision \(state.revision) failed: \(error); the log still holds every change")
            return false
        }
    }
}
