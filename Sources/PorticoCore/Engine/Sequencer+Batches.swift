import PorticoReasons
import Synchronization

/// A shared log's content does not follow this node's copy: a gap, a change that does not replay, a
/// head behind the node. The node stops serving and reloads. Public: a store finds most of them.
public struct LogInconsistency: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// What `Sequencer.absorb` did with changes another node committed.
enum Absorbed: Equatable {
    /// Applied this many (0: every one was held already).
    case applied(Int)
    /// A batch of this node is being written: nothing applied (they may be that very batch); ask again.
    case busy
}

extension Sequencer {
    // MARK: - The commit log's side

    /// Whether there is a batch to write; with none queued, marks the commit log idle.
    func hasQueued() -> Bool {
        state.withLock { state in
            if state.queue.isEmpty { state.draining = false }
            return !state.queue.isEmpty
        }
    }

    /// Takes every queued change as the next batch, after applying `missed`, the changes other nodes
    /// committed first (a shared log's; none for a store only this node writes).
    /// - Returns: the batch's changes in revision order, numbered after `missed`; empty when none is left.
    /// - Throws: `LogInconsistency` when `missed` does not follow the node's state.
    func seal(absorbing missed: [Change]) throws -> [Change] {
        let (batch, refused) = try state.withLock { state throws(LogInconsistency) -> ([Change], [Reply]) in
            precondition(state.writing.isEmpty, "one batch at a time")
            let refused = try absorb(missed, into: &state)
            // The queue is empty once taken, so the tentative state is the state the batch ends with.
            state.writing = state.queue
            state.queue = []
            state.writingEnds = state.writing.isEmpty ? nil : state.tentative
            return (state.writing.map(\.change), refused)
        }
        Self.answer(refused)
        return batch
    }

    /// The batch being written is durable: publishes the state it ends with.
    /// - Returns: its committers and their results, in revision order, to be answered.
    func committed() -> [Pending] {
        state.withLock { state in
            if let ending = state.writingEnds {
                state.durable = ending
                state.writingEnds = nil
                publish(state.durable)
            }
            defer { state.writing = [] }
            return state.withFollowers(state.writing)
        }
    }

    /// The batch being written failed: the tentative state falls back to the durable one.
    /// - Parameter inconsistency: set when the node's copy of the log proved inconsistent: it stops
    ///   serving until reloaded.
    /// - Returns: every committer to fail: the batch's, then those queued behind it.
    func failed(inconsistency: String? = nil) -> [Pending] {
        state.withLock { state in
            let dropped = state.withFollowers(state.writing + state.queue)
            state.writing = []
            state.queue = []
            state.writingEnds = nil
            state.tentative = state.durable
            if let inconsistency { setFailure(inconsistency, in: &state) }
            return dropped
        }
    }

    // MARK: - Following a shared log

    /// Applies changes other nodes committed, in revision order: those the node holds already are
    /// passed over, the rest must follow without a gap and replay. Published at once; queued changes
    /// are validated again on top of them, and those that no longer pass are refused to their callers.
    /// - Throws: `LogInconsistency` when they do not follow the node's state; nothing is applied then.
    func absorb(_ changes: [Change]) throws -> Absorbed {
        let (absorbed, refused) = try state.withLock { state throws(LogInconsistency) -> (Absorbed, [Reply]) in
            // A batch being written holds the log's head: the changes after the durable state can only
            // be that batch, applied once its commit returns.
            guard state.writing.isEmpty else { return (.busy, []) }
            let before = state.durable.revision
            let refused = try absorb(changes, into: &state)
            return (.applied(Int(state.durable.revision - before)), refused)
        }
        Self.answer(refused)
        return absorbed
    }

    /// Marks the node inconsistent: it refuses calls until `reset`. Queued writes fail.
    func stopServing(_ why: String) {
        let dropped = state.withLock { state in
            setFailure(why, in: &state)
            let dropped = state.withFollowers(state.queue)
            state.queue = []
            state.tentative = state.durable
            return dropped
        }
        let failure = Self.reloading(why)
        for pending in dropped { pending.reply.resume(throwing: failure) }
    }

    /// Starts over from `recovered`, a state the store rebuilt: serving again, nothing queued.
    func reset(to recovered: AccessState) {
        let dropped = state.withLock { state in
            let dropped = state.withFollowers(state.queue)
            state.queue = []
            state.durable = recovered
            state.tentative = recovered
            setFailure(nil, in: &state)
            publish(recovered, replacing: true)
            return dropped
        }
        let failure = PorticoError(.unavailable, "the node reloaded its state; retry", reason: .reloading)
        for pending in dropped { pending.reply.resume(throwing: failure) }
    }

    // MARK: - Under the lock

    /// A queued change answered while absorbing: refused, or found made already by another node.
    typealias Reply = (Pending, Result<CommandResult, any Error>)

    private func absorb(_ changes: [Change], into state: inout State) throws(LogInconsistency) -> [Reply] {
        var applied = false
        for change in changes where change.revision > state.durable.revision {
            do {
                try state.durable.replay(change)
            } catch {
                throw LogInconsistency("\(error)")
            }
            applied = true
        }
        guard applied else { return [] }
        publish(state.durable)
        // Validated again, in arrival order, on top of what the others committed first.
        state.tentative = state.durable
        var kept: [Pending] = []
        var refused: [Reply] = []
        // Retries waiting on a queued change are keyed by its revision, which may change now: they are
        // told to retry (their key then finds the change, wherever it ends up).
        let retry = PorticoError(
            .unavailable, "the change this call retries was validated again after other nodes' changes; retry",
            reason: .storeFailed)
        for pending in state.followers.values.joined() { refused.append((pending, .failure(retry))) }
        state.followers = [:]
        for var pending in state.queue {
            do {
                // Its key may have made the change on another node (sent there too, at once): that change,
                // absorbed above with its key, is the answer, and nothing is applied again. A different
                // request under the key is refused, as on one node.
                if let key = pending.key,
                    let earlier = try state.tentative.earlierChange(
                        key, pending.command, now: clock.now(), policy: policy)
                {
                    refused.append((pending, .success(earlier)))
                    continue
                }
                (pending.change, pending.result) = try Self.apply(
                    pending.command, caller: pending.caller, now: clock.now(), key: pending.key, policy: policy,
                    to: &state.tentative)
                kept.append(pending)
            } catch {
                refused.append((pending, .failure(error)))
            }
        }
        state.queue = kept
        return refused
    }

    private func publish(_ state: AccessState, replacing: Bool = false) {
        publication.publish(AccessSnapshot(state), replacing: replacing)
    }

    private static func answer(_ replies: [Reply]) {
        for (pending, result) in replies { pending.reply.resume(with: result) }
    }
}
