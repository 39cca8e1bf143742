import PorticoReasons
import Synchronization

/// The access-control core: the entry point the server calls.
///
/// Writes go through `execute`, which hands each command to the `Sequencer`: validated at once against
/// the latest tentative state, then committed by the `CommitLog` actor with whatever else is queued
/// (group commit, one portfolio's changes included), answered once durable. Reads take the current
/// `AccessSnapshot` and never await: one lock to fetch a reference, then plain lookups.
///
/// On a shared log (`SharedChangeLog`), a `LogFollower` applies what other nodes commit, and reads may
/// wait for a revision this node has not reached yet (`snapshot(atLeast:until:)`).
public final class Portico: Sendable {
    let sequencer: Sequencer
    private let log: CommitLog
    let logStatus: LogStatusBoard
    /// The clock for token expiry and audit times.
    public var clock: any WallClock { sequencer.clock }

    private init(state: AccessState, store: any ChangeStore, clock: any WallClock, policy: IdempotencyPolicy) {
        sequencer = Sequencer(state: state, clock: clock, policy: policy)
        logStatus = LogStatusBoard(store: store.kind, clock: clock)
        log = CommitLog(store: store, sequencer: sequencer, status: logStatus)
    }

    /// Opens the core on `store`, rebuilding the state from what it holds: its newest checkpoint, if
    /// any, then the changes after it.
    /// - Parameters:
    ///   - idempotency: how long idempotency keys are remembered, and how many at most.
    ///   - progress: called now and then while changes are replayed, with how many are done.
    /// - Throws: the store's error, or INTERNAL when a stored change does not replay.
    public static func open(store: any ChangeStore = InMemoryChangeStore(),
                            clock: any WallClock = SystemClock(),
                            idempotency: IdempotencyPolicy = .standard,
                            progress: ((_ done: Int, _ total: Int) -> Void)? = nil) async throws -> Portico {
        let recovery = try await store.recover()
        let state = try AccessState.replay(recovery.changes, onto: recovery.base ?? AccessState(), policy: idempotency,
                                           progress: progress)
        return Portico(state: state, store: store, clock: clock, policy: idempotency)
    }

    /// Tells `observer` of every batch committed or refused from now on, instead of the one before (a
    /// server serving this core sets it; one observer per core).
    public func observeCommits(with observer: (any CommitObserver)?) {
        log.observer.withLock { $0 = observer }
    }

    /// The latest committed snapshot.
    public var snapshot: AccessSnapshot { sequencer.snapshot }

    /// The revision of the last change accepted, whether or not the store holds it yet.
    var pendingRevision: Revision { sequencer.tentativeRevision }

    /// What the node knows of its store and the log's head (GetServerInfo).
    public var status: LogStatus {
        logStatus.status(applied: sequencer.snapshot.revision, notServing: sequencer.failure)
    }

    /// Whether the node serves: false while it reloads after finding its copy of a shared log
    /// inconsistent. One atomic load.
    public var isServing: Bool { sequencer.isServing }

    /// The refusal of a call while the node does not serve (UNAVAILABLE, `RELOADING`).
    public func notServingError() -> PorticoError {
        Sequencer.reloading(sequencer.failure ?? "it is reloading")
    }

    /// The latest snapshot once it has reached `revision`, waiting for it until `deadline` (a node that
    /// follows a shared log may be behind the node that made the revision); nil waits until the
    /// revision arrives or the task is cancelled.
    /// - Throws: UNAVAILABLE (`REVISION_NOT_VISIBLE`) when the deadline passes first;
    ///   `CancellationError` when the task is cancelled.
    public func snapshot(atLeast revision: Revision, until deadline: ContinuousClock.Instant?) async throws
        -> AccessSnapshot
    {
        try await sequencer.publication.wait(for: revision, until: deadline)
    }

    /// The published snapshot once it holds a revision after `revision` (a Watch stream's next changes).
    /// - Throws: `CancellationError` when the task is cancelled first.
    public func snapshot(after revision: Revision) async throws -> AccessSnapshot {
        try await sequencer.publication.wait(for: revision + 1)
    }

    /// Calls waiting for a revision now (tests bound them).
    public var revisionWaiters: Int { sequencer.publication.waiting }

    /// The latest snapshot, provided it has reached `revision`.
    /// - Throws: UNAVAILABLE (`REVISION_NOT_VISIBLE`) when it has not.
    public func snapshot(atLeast revision: Revision?) throws -> AccessSnapshot {
        let snapshot = sequencer.snapshot
        try snapshot.require(atLeast: revision)
        return snapshot
    }

    /// Applies `command` for `caller`; returns once the change is durable and visible to checks.
    ///
    /// Nothing is kept per portfolio or per caller: a refused command leaves nothing behind, and an
    /// accepted one only its place in the sequencer's queue until it is answered (and, with an
    /// idempotency key, the key in the state until the window passes).
    /// - Parameters:
    ///   - deadline: refused with DEADLINE_EXCEEDED, unchanged, if it has passed before validation.
    ///   - idempotencyKey: the caller's key for this change: if the caller made a change with it within
    ///     the window, that change's answer is returned (`CommandResult.replayed`) and nothing is applied.
    /// - Throws: `PorticoError`: the domain's refusal (nothing changed), FAILED_PRECONDITION
    ///   (`IDEMPOTENCY_KEY_REUSED`) for a key used for another command, or UNAVAILABLE if the store failed.
    @discardableResult
    public func execute(_ command: Command, as caller: Caller, deadline: ContinuousClock.Instant? = nil,
                        idempotencyKey: String? = nil) async throws -> CommandResult {
        try await withCheckedThrowingContinuation { reply in
            do {
                guard try sequencer.accept(command, caller: caller, deadline: deadline, idempotencyKey: idempotencyKey,
                                           reply: reply)
                else { return }
                // The log was idle: a drain of its own, so that this committer waits only for its answer.
                let log = self.log
                Task { await log.drain() }
            } catch {
                reply.resume(throwing: error)
            }
        }
    }

    /// Writes the core is keeping track of: queued for the store, or answered but not yet collected.
    var writesInFlight: Int { sequencer.writesInFlight }

    /// The caller a presented token or service-credential secret stands for.
    public func authenticate(_ secret: String) throws -> Caller {
        try snapshot.authenticate(secret, now: clock.now())
    }

    /// May `principal` perform `task` on `asset`? Asked by `caller`, at `atLeast` or later.
    public func check(as caller: Caller, principal: PrincipalID, asset: AssetID, task: AssetTask,
                      atLeast revision: Revision? = nil) throws -> Decision {
        try snapshot(atLeast: revision).check(as: caller, principal: principal, asset: asset, task: task,
                                              now: clock.now())
    }

    /// May the token's system user perform `task` on `asset` within its scopes?
    public func check(as caller: Caller, token: TokenID, asset: AssetID, task: AssetTask,
                      atLeast revision: Revision? = nil) throws -> Decision {
        try snapshot(atLeast: revision).check(as: caller, token: token, asset: asset, task: task, now: clock.now())
    }
}
