import HashTreeCollections

import Synchronization

/// The one place where a change is validated, applied, given its revision and queued for the store,
/// and where committed state is published.
///
/// Validation, apply and queueing happen under one short lock with no `await` between them, against
/// the latest *tentative* state (the published state plus every change still waiting for the store),
/// so no actor reentrancy can slip a stale decision in, and a cross-portfolio command sees the other
/// portfolio exactly as it will be when its own revision commits. Durability is group-committed: the
/// first committer that finds the store idle leads, writes everything queued in one `append`, publishes
/// the new snapshot, resumes the others and hands the lead to the next queued committer. If the store
/// fails, the tentative state falls back to the durable one and every change queued on top of the
/// failed batch fails too, since each was validated against state that will never exist.
final class Sequencer: Sendable {
    enum Outcome: Sendable {
        case committed
        case failed(PorticoError)
        /// The store is yours: write the queue.
        case lead
    }

    struct Pending: Sendable {
        let ticket: UInt64
        let change: Change
        let after: AccessState
    }

    struct WriterState: Sendable {
        var tentative: AccessState
        var durable: AccessState
        var queue: [Pending] = []
        var flushing = false
        /// Tickets, not revisions, key the waits: a failed revision number is reused by the next change.
        var nextTicket: UInt64 = 0
        var finished: [UInt64: Outcome] = [:]
        var waiters: [UInt64: CheckedContinuation<Outcome, Never>] = [:]

        mutating func resolve(_ ticket: UInt64, _ outcome: Outcome) {
            if let waiter = waiters.removeValue(forKey: ticket) {
                waiter.resume(returning: outcome)
            } else {
                finished[ticket] = outcome
            }
        }

        /// Gives the lead to the oldest queued committer, or marks the store idle.
        mutating func handOff() {
            if let next = queue.first { resolve(next.ticket, .lead) } else { flushing = false }
        }
    }

    private let writer: Mutex<WriterState>
    private let published: Mutex<AccessSnapshot>
    let store: any ChangeStore
    let clock: any WallClock

    init(state: AccessState, store: any ChangeStore, clock: any WallClock) {
        writer = Mutex(WriterState(tentative: state, durable: state))
        published = Mutex(AccessSnapshot(state))
        self.store = store
        self.clock = clock
    }

    /// The revision of the last change accepted, durable or not (tests use it to pin interleavings).
    var tentativeRevision: Revision { writer.withLock { $0.tentative.revision } }

    /// The latest committed snapshot; one lock, one retain.
    var snapshot: AccessSnapshot { published.withLock { $0 } }

    /// Validates and applies `command`, waits until the store holds it, then returns once it is published.
    /// - Parameter deadline: past it, the command is refused instead of validated. Checked here, under
    ///   the lock, because this is the last moment at which refusing still means nothing changed; once
    ///   validated, the change goes to the store whatever the clock says.
    /// - Throws: the command's domain error or DEADLINE_EXCEEDED (nothing changed), or UNAVAILABLE
    ///   when the store failed.
    func commit(_ command: Command, caller: Caller,
                deadline: ContinuousClock.Instant? = nil) async throws -> CommandResult {
        let (ticket, result, leads) = try writer.withLock { writer throws -> (UInt64, CommandResult, Bool) in
            if let deadline, ContinuousClock.now >= deadline {
                throw PorticoError(.deadlineExceeded,
                                   "the call's deadline passed before the change was validated; nothing changed",
                                   reason: "DEADLINE_EXCEEDED")
            }
            var next = writer.tentative
            var context = ApplyContext(caller: caller, now: clock.now(), source: .live)
            let created = try next.apply(command, &context)
            let change = Change(revision: next.revision, time: context.now, caller: caller, command: command,
                                secretDigests: context.digests)
            let ticket = writer.nextTicket
            writer.nextTicket += 1
            writer.tentative = next
            writer.queue.append(Pending(ticket: ticket, change: change, after: next))
            let leads = !writer.flushing
            writer.flushing = true
            return (ticket, CommandResult(revision: next.revision, createdID: created, secret: context.secret), leads)
        }
        var outcome = leads ? Outcome.lead : await wait(for: ticket)
        while true {
            switch outcome {
            case .committed: return result
            case .failed(let error): throw error
            case .lead:
                await flush()
                outcome = await wait(for: ticket)
            }
        }
    }

    private func wait(for ticket: UInt64) async -> Outcome {
        await withCheckedContinuation { continuation in
            writer.withLock { writer in
                if let outcome = writer.finished.removeValue(forKey: ticket) {
                    continuation.resume(returning: outcome)
                } else {
                    writer.waiters[ticket] = continuation
                }
            }
        }
    }

    /// Writes every queued change as one batch; publishes it, or rolls back it and everything behind it.
    private func flush() async {
        let batch = writer.withLock { writer in
            defer { writer.queue = [] }
            return writer.queue
        }
        guard let last = batch.last else {
            writer.withLock { $0.handOff() }
            return
        }
        do {
            try await store.append(batch.map(\.change))
            writer.withLock { writer in
                writer.durable = last.after
                let snapshot = AccessSnapshot(last.after)
                published.withLock { $0 = snapshot }
                for pending in batch { writer.resolve(pending.ticket, .committed) }
                writer.handOff()
            }
        } catch {
            let failure = PorticoError(.unavailable, "the store did not accept the change: \(error)",
                                       reason: "STORE_FAILED")
            writer.withLock { writer in
                let dropped = batch + writer.queue
                writer.queue = []
                writer.tentative = writer.durable
                for pending in dropped { writer.resolve(pending.ticket, .failed(failure)) }
                writer.handOff()
            }
        }
    }
}

extension AccessState {
    /// Rebuilds the state a store's changes describe, re-running each with its recorded time and secrets.
    /// - Throws: INTERNAL when a change does not apply or its revision does not follow.
    static func replay(_ changes: [Change]) throws -> AccessState {
        var state = AccessState()
        for change in changes {
            var context = ApplyContext(caller: change.caller, now: change.time, source: .replay(change.secretDigests))
            do {
                _ = try state.apply(change.command, &context)
            } catch {
                throw PorticoError(.internal, "stored change \(change.revision) does not replay: \(error)",
                                   reason: "REPLAY_MISMATCH")
            }
            guard state.revision == change.revision else {
                throw PorticoError(.internal, "stored change \(change.revision) out of order", reason: "REPLAY_MISMATCH")
            }
        }
        return state
    }
}
