import PorticoReasons
import Synchronization

/// The synchronous half of the commit pipeline: where a change is validated, applied and given its
/// revision, and the state that the durable half (`CommitLog`, an actor) takes batches from and
/// publishes to.
///
/// Validation, apply and queueing happen under one short lock with no `await` between them, against
/// the latest *tentative* state (the published state plus every change still waiting for the store),
/// so no actor reentrancy can slip a stale decision in, and a cross-portfolio command sees the other
/// portfolio exactly as it will be when its own revision commits. A command is validated as soon as
/// it arrives, even while earlier ones of the same portfolio wait for the disk, so one busy portfolio
/// group-commits as well as many. Each accepted change waits in the queue with its committer's
/// continuation; the commit log takes the whole queue as one batch, writes it, publishes the state
/// it ends with and answers each committer in revision order. If the store fails, the tentative state
/// falls back to the durable one and every change queued on top of the failed batch fails too, since
/// each was validated against state that will never exist.
///
/// On a shared log, changes other nodes committed arrive too (`absorb`): they are applied to the
/// durable state in revision order, and every queued change is validated again on top of them.
final class Sequencer: Sendable {
    /// An accepted change and the committer waiting for it.
    struct Pending {
        let command: Command
        let caller: Caller
        var change: Change
        var result: CommandResult
        let reply: CheckedContinuation<CommandResult, any Error>
        /// The idempotency key it was made with, for validating it again (a shared log's absorb).
        var key: IdempotencyKey? = nil
    }

    struct State {
        var tentative: AccessState
        /// The state the store holds: the published state.
        var durable: AccessState
        /// Accepted changes not yet handed to the store, in revision order.
        var queue: [Pending] = []
        /// The batch the commit log is writing, and the state it ends with.
        var writing: [Pending] = []
        var writingEnds: AccessState?
        /// Whether the commit log is draining the queue (or about to): set by the committer that finds
        /// it idle, cleared by the commit log when it finds the queue empty, both under this lock, so a
        /// queued change is never left without a drain.
        var draining = false
        /// Why the node stopped serving: its copy of a shared log is inconsistent, and it reloads.
        var failure: String?
        /// Retries of a change not yet durable (the same idempotency key), by the change's revision: answered
        /// with it, or failed with it.
        var followers: [Revision: [Pending]] = [:]

        /// `batch` followed by the retries that wait on its changes.
        mutating func withFollowers(_ batch: [Pending]) -> [Pending] {
            guard !followers.isEmpty else { return batch }
            return batch + batch.flatMap { followers.removeValue(forKey: $0.change.revision) ?? [] }
        }
    }

    let state: Mutex<State>
    let publication: Publication
    /// `state.failure == nil`, readable without the lock: every call asks it.
    private let serving = Atomic<Bool>(true)
    let clock: any WallClock
    let policy: IdempotencyPolicy

    init(state initial: AccessState, clock: any WallClock, policy: IdempotencyPolicy = .standard) {
        state = Mutex(State(tentative: initial, durable: initial))
        publication = Publication(AccessSnapshot(initial))
        self.clock = clock
        self.policy = policy
    }

    /// The revision of the last change accepted, durable or not (tests use it to pin interleavings).
    var tentativeRevision: Revision { state.withLock { $0.tentative.revision } }

    /// The revision of the last change the store holds, as this node knows it.
    var durableRevision: Revision { state.withLock { $0.durable.revision } }

    /// Writes accepted and not yet answered: queued or being written.
    var writesInFlight: Int {
        state.withLock { $0.queue.count + $0.writing.count + $0.followers.values.reduce(0) { $0 + $1.count } }
    }

    /// Why the node does not serve, or nil when it does.
    var failure: String? { state.withLock { $0.failure } }

    /// Whether the node serves; one atomic load.
    var isServing: Bool { serving.load(ordering: .relaxed) }

    /// Sets why the node does not serve (nil: it serves); under the state's lock.
    func setFailure(_ why: String?, in state: inout State) {
        state.failure = why
        serving.store(why == nil, ordering: .relaxed)
    }

    /// The latest committed snapshot; one lock, one retain.
    var snapshot: AccessSnapshot { publication.current }

    /// Validates and applies `command` against the tentative state and queues its change, or refuses it.
    /// - Returns: whether the commit log must be started: it was idle.
    /// With `idempotencyKey`, a change the caller made with the key within the policy's window is answered
    /// again instead (at once when durable, else with it), and nothing is applied.
    /// - Throws: the command's domain error, DEADLINE_EXCEEDED, or for the key INVALID_ARGUMENT
    ///   (`INVALID_IDEMPOTENCY_KEY`) or FAILED_PRECONDITION (`IDEMPOTENCY_KEY_REUSED`); the state is then
    ///   unchanged; UNAVAILABLE (`RELOADING`) while the node reloads.
    func accept(
        _ command: Command, caller: Caller, deadline: ContinuousClock.Instant?,
        idempotencyKey: String? = nil, reply: CheckedContinuation<CommandResult, any Error>
    ) throws -> Bool {
        // Malformed keys are refused before the lock, so that no key's size is paid for under it.
        if let idempotencyKey { try IdempotencyKey.validate(idempotencyKey) }
        return try state.withLock { state throws -> Bool in
            if let deadline, deadline <= .now {
                throw PorticoError(
                    .deadlineExceeded, "the deadline passed before the change was validated",
                    reason: .deadlineExceeded)
            }
            if let failure = state.failure { throw Self.reloading(failure) }
            let now = clock.now()
            var key: IdempotencyKey?
            if let idempotencyKey {
                // The one place keys are consulted: under the lock, against the tentative state, so a retry
                // that arrives while its change is still queued for the store finds it too.
                let found = try state.tentative.idempotencyKey(idempotencyKey, caller: caller, now: now)
                if let earlier = try state.tentative.earlierChange(found, command, now: now, policy: policy) {
                    guard earlier.revision > state.durable.revision,
                        let first = (state.writing + state.queue).first(where: {
                            $0.change.revision == earlier.revision
                        })
                    else {
                        reply.resume(returning: earlier)
                        return false
                    }
                    state.followers[earlier.revision, default: []].append(
                        Pending(command: command, caller: caller, change: first.change, result: earlier, reply: reply))
                    return false
                }
                key = found
            }
            let (change, result) = try Self.apply(
                command, caller: caller, now: now, key: key, policy: policy,
                to: &state.tentative)
            state.queue.append(
                Pending(
                    command: command, caller: caller, change: change, result: result, reply: reply,
                    key: key))
            defer { state.draining = true }
            return !state.draining
        }
    }

    /// The refusal of every call while the node reloads.
    static func reloading(_ why: String) -> PorticoError {
        PorticoError(
            .unavailable, "this node is reloading its state (\(why)); retry, or ask another node",
            reason: .reloading)
    }

    /// Applies `command` to `state` in place and describes the change it made.
    ///
    /// In place: the tentative state is shared only with the last published or taken batch state, so
    /// the first change after a batch copies what it touches and the rest change it where it is (a copy
    /// per change copied a dense-table page and its outer array every time). A refused command throws
    /// before it changes anything (`AccessState.apply`); debug builds check that.
    static func apply(
        _ command: Command, caller: Caller, now: Timestamp, key: IdempotencyKey?,
        policy: IdempotencyPolicy, to state: inout AccessState
    ) throws -> (Change, CommandResult) {
        var context = ApplyContext(caller: caller, now: now, source: .live)
        context.policy = policy
        context.idempotency = key.map { .live($0) }
        #if DEBUG
            let before = state
        #endif
        let created: UInt64?
        do {
            created = try state.apply(command, &context)
        } catch {
            #if DEBUG
                precondition(state == before, "refused \(command.name) changed the state")
            #endif
            throw error
        }
        let revision = state.revision
        let change = Change(
            revision: revision, time: context.now, caller: caller, command: command,
            secretDigests: context.digests, idempotency: context.idempotencyRecord)
        return (change, CommandResult(revision: revision, createdID: created, secret: context.secret))
    }
}
