public import PorticoCore

/// A store that keeps checkpoints of the whole state beside its log (SQLite's data directory, or a
/// node's data directory for the PostgreSQL log), so that start-up replays only the log's tail.
public protocol CheckpointingStore: Sendable {
    /// The checkpoint files; nil when the store has no directory for them.
    var checkpoints: CheckpointFiles? { get }

    /// Writes `state` (a published, so durable, snapshot) as a checkpoint, off the caller's thread.
    /// - Returns: the checkpoint's path and size.
    @discardableResult
    func writeCheckpoint(_ state: AccessState, now: Timestamp) async throws -> (path: String, bytes: Int)
}
