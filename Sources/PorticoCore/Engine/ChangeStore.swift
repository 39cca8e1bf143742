import PorticoReasons
import Synchronization

/// Where committed changes become durable; the core's only dependency on storage.
///
/// The core hands the store whole batches: every change queued while the previous batch was being
/// written, from any number of portfolios, in revision order. A durable store writes a batch in one
/// transaction (group commit) and returns only once it is durable; nothing in it is acknowledged or
/// published before. At start-up the core rebuilds its state from `recover()`: the newest checkpoint the
/// store holds, if any, and the changes after it.
public protocol ChangeStore: Sendable {
    /// Makes `changes` durable, all or nothing, after every change appended before.
    /// - Parameter changes: contiguous revisions, continuing the last stored one.
    /// - Throws: any error; the core then discards these changes and every change queued behind them.
    func append(_ changes: [Change]) async throws

    /// Every stored change, in revision order.
    func load() async throws -> [Change]

    /// The state to start from: a checkpoint's state and the changes after it, or every change.
    func recover() async throws -> Recovery

    /// Appends the batch `prepare` makes. A store that only this process writes calls `prepare([])` and
    /// appends what it returns (the default); a shared log (`SharedChangeLog`) first locks its head and
    /// hands `prepare` the changes other nodes committed after `known`.
    /// - Parameters:
    ///   - known: the last revision this node holds.
    ///   - prepare: applies the changes it is given (in revision order, following `known`), then returns
    ///     the batch to append, numbered after them; empty for nothing to append. It may throw (an
    ///     inconsistency): nothing is appended then.
    func append(after known: Revision, prepare: @Sendable (_ missed: [Change]) throws -> [Change]) async throws

    /// What the store is, for people: "memory", "sqlite", "postgres".
    var kind: String { get }
}

extension ChangeStore {
    public func append(after known: Revision, prepare: @Sendable (_ missed: [Change]) throws -> [Change]) async throws {
        let batch = try prepare([])
        guard !batch.isEmpty else { return }
        try await append(batch)
    }

    public var kind: String { "custom" }
}

/// A change log that other processes append to as well: every node validates its writes against the
/// log's head (`append(after:prepare:)`, one transaction under the head's lock) and follows what the
/// others commit (`LogFollower`).
public protocol SharedChangeLog: ChangeStore {
    /// Up to `limit` changes after `revision`, in revision order.
    func changes(after revision: Revision, limit: Int) async throws -> [Change]

    /// The log's head as it moves: its revision when the sequence starts, then each new head another
    /// node announces, and the head read again every `poll` (a fallback for a lost announcement). It
    /// ends by throwing when the connection to the log is lost; the follower then starts a new one.
    func heads(poll: Duration) -> AsyncThrowingStream<Revision, any Error>
}

/// Where start-up begins: a state the store kept (a checkpoint), and the changes to replay after it.
public struct Recovery: Sendable {
    /// The checkpoint's state; nil to replay from the empty state.
    public var base: AccessState?
    /// The changes after `base` (all of them without one), in revision order.
    public var changes: [Change]

    public init(base: AccessState?, changes: [Change]) {
        self.base = base
        self.changes = changes
    }
}

extension ChangeStore {
    /// Without checkpoints: every change, replayed from the empty state.
    public func recover() async throws -> Recovery { Recovery(base: nil, changes: try await load()) }
}

/// A store that keeps changes in memory: durable only as long as the process.
public final class InMemoryChangeStore: ChangeStore {
    // Mutex makes the array safe to share; no other state.
    private let changes: Mutex<[Change]>

    public init(_ changes: [Change] = []) { self.changes = Mutex(changes) }

    public func append(_ batch: [Change]) async throws {
        try changes.withLock { stored in
            let expected = (stored.last?.revision ?? 0) + 1
            guard batch.first.map({ $0.revision == expected }) ?? true,
                  zip(batch, batch.dropFirst()).allSatisfy({ $0.revision + 1 == $1.revision })
            else { throw PorticoError(.internal, "changes out of order", reason: .storeOrder) }
            stored.append(contentsOf: batch)
        }
    }

    public func load() async throws -> [Change] { changes.withLock { $0 } }

    public var kind: String { "memory" }

    /// The changes stored so far.
    public var stored: [Change] { changes.withLock { $0 } }
}
