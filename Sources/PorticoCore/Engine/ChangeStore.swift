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

    /// The changes stored so far.
    public var stored: [Change] { changes.withLock { $0 } }
}
