import HashTreeCollections

import Synchronization
import PorticoReasons

/// The one place where a change is validated, applied, given its revision and queued for the store,
/// and where committed state is published.
///
/// Validation, apply and queueing happen under one short lock with no `await` between them, against
/// the latest *tentative* state (the published state plus every change still waiting for the store),
/// so no actor reentrancy can slip a stale decision in, and a cross-portfolio command sees the other
/// portfolio exactly as it will be when its own revision commits. A command is validated as soon as
/// it arrives, even while earlier ones of the same portfolio wait for the disk, so one busy portfolio
/// group-commits as well as many. Durability is group-committed: the first committer that finds the
/// store idle leads, writes everything queued in one `append`, publishes the state the batch ends with,
/// resumes the others in revision order and hands the lead to the next queued committer. If the store
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
    }

    struct WriterState: Sendable {
        var tentative: AccessState
        var durable: AccessState
        var queue: [Pending] = []
        /// Changes of the batch being written now (taken from the queue, not yet answered).
        var writing = 0
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
    /// Told of each batch once it is settled (the server's write log and store metrics); set once.
    let observer = Mutex<(any CommitObserver)?>(nil)

    init(state: AccessState, store: any ChangeStore, clock: any WallClock) {
        writer = Mutex(WriterState(tentative: state, durable: state))
        published = Mutex(AccessSnapshot(state))
        self.store = store
        self.clock = clock
    }

    /// The revision of the last change accepted, durable or not (tests use it to pin interleavings).
    var tentativeRevision: Revision { writer.withLock { $0.tentative.revision } }

    /// Per-call records held now: queued changes, and outcomes or waits not yet collected.
    var writesInFlight: Int { writer.withLock { $0.queue.count + $0.writing + $0.finished.count + $0.waiters.count } }

    /// The latest committed snapshot; one lock, one retain.
    var snapshot: AccessSnapshot { published.withLock { $0 } }

    /// Validates and applies `command`, waits until the store holds it, then returns once it is published.
    /// - Parameter deadline: when it has passed before validation, the command is refused, unchanged.
    /// - Throws: the command's domain error (nothing changed), DEADLINE_EXCEEDED, or UNAVAILABLE when the
    ///   store failed.
    func commit(_ command: Command, caller: Caller, deadline: ContinuousClock.Instant? = nil) async throws -> CommandResult {
        let (ticket, result, leads) = try writer.withLock { writer throws -> (UInt64, CommandResult, Bool) in
            if let deadline, deadline <= .now {
                throw PorticoError(.deadlineExceeded, "the deadline passed before the change was validated",
                                   reason: .deadlineExceeded)
            }
            var context = ApplyContext(caller: caller, now: clock.now(), source: .live)
            // In place: the tentative state is shared only with the last published or taken batch state,
            // so the first change after a batch copies what it touches and the rest change it where it is
            // (a copy per change copied a dense-table page and its outer array every time). A refused
            // command throws before it changes anything (`AccessState.apply`); debug builds check that.
            #if DEBUG
            let before = writer.tentative
            #endif
            let created: UInt64?
            do {
                created = try writer.tentative.apply(command, &context)
            } catch {
                #if DEBUG
                precondition(writer.tentative == before, "refused \(command.name) changed the state")
                #endif
                throw error
            }
            let revision = writer.tentative.revision
            let change = Change(revision: revision, time: context.now, caller: caller, command: command,
                                secretDigests: context.digests)
            let ticket = writer.nextTicket
            writer.nextTicket += 1
            writer.queue.append(Pending(ticket: ticket, change: change))
            let leads = !writer.flushing
            writer.flushing = true
            return (ticket, CommandResult(revision: revision, createdID: created, secret: context.secret), leads)
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

    /// Writes every queued change as one batch; publishes the state it ends with, or rolls back it and
    /// everything behind it. Only that one state is kept for the batch, not one per change: the
    /// published snapshot shares every page and node the batch did not touch.
    private func flush() async {
        let (batch, ending) = writer.withLock { writer in
            defer {
                writer.writing = writer.queue.count
                writer.queue = []
            }
            return (writer.queue, writer.tentative)
        }
        guard !batch.isEmpty else {
            writer.withLock { $0.handOff() }
            return
        }
        let changes = batch.map(\.change)
        let observer = self.observer.withLock { $0 }
        let began = ContinuousClock.now
        do {
            try await store.append(changes)
            let stored = ContinuousClock.now
            let snapshot = AccessSnapshot(ending)
            writer.withLock { writer in
                writer.durable = ending
                writer.writing = 0
                published.withLock { $0 = snapshot }
                for pending in batch { writer.resolve(pending.ticket, .committed) }
                writer.handOff()
            }
            observer?.committed(changes, storeTime: stored - began, publishTime: ContinuousClock.now - stored)
        } catch {
            let failure = PorticoError(.unavailable, "the store did not accept the change: \(error)",
                                       reason: .storeFailed)
            writer.withLock { writer in
                let dropped = batch + writer.queue
                writer.queue = []
                writer.writing = 0
                writer.tentative = writer.durable
                for pending in dropped { writer.resolve(pending.ticket, .failed(failure)) }
                writer.handOff()
            }
            observer?.commitFailed(changes, error: error, storeTime: ContinuousClock.now - began)
        }
    }
}

extension AccessState {
    /// How many changes replay between two progress reports.
    static let replayReportInterval = 100_000

    /// Rebuilds the state a store's changes describe, re-running each with its recorded time and secrets.
    /// - Parameters:
    ///   - base: the state the changes follow (a checkpoint's), or the empty state.
    ///   - progress: called every `replayReportInterval` changes and at the end, with done and total.
    /// - Throws: INTERNAL when a change does not apply or its revision does not follow.
    public static func replay(_ changes: [Change], onto base: AccessState = AccessState(),
                              progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> AccessState {
        var state = base
        for (index, change) in changes.enumerated() {
            var context = ApplyContext(caller: change.caller, now: change.time, source: .replay(change.secretDigests))
            do {
                _ = try state.apply(change.command, &context)
            } catch {
                throw PorticoError(.internal, "stored change \(change.revision) does not replay: \(error)",
                                   reason: .replayMismatch)
            }
            guard state.revision == change.revision else {
                throw PorticoError(.internal, "stored change \(change.revision) out of order", reason: .replayMismatch)
            }
            if (index + 1) % replayReportInterval == 0 { progress?(index + 1, changes.count) }
        }
        progress?(changes.count, changes.count)
        return state
    }
}
