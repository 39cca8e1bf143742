import HashTreeCollections

import Synchronization

/// The access-control core: the entry point the server calls.
///
/// Writes go through `execute`, which routes each command to its portfolio's lane. Reads take the
/// current `AccessSnapshot` and never await: one lock to fetch a reference, then plain lookups.
public final class Portico: Sendable {
    private let sequencer: Sequencer
    // The lanes are created lazily and never removed; Mutex makes the dictionary safe to share.
    private let lanes = Mutex<[PortfolioID: PortfolioLane]>([:])
    private let serviceLane = PortfolioLane()

    /// The clock for token expiry and audit times.
    public var clock: any WallClock { sequencer.clock }

    private init(state: AccessState, store: any ChangeStore, clock: any WallClock) {
        sequencer = Sequencer(state: state, store: store, clock: clock)
    }

    /// Opens the core on `store`, rebuilding the state from what it holds.
    /// - Throws: the store's error, or INTERNAL when a stored change does not replay.
    public static func open(store: any ChangeStore = InMemoryChangeStore(),
                            clock: any WallClock = SystemClock()) async throws -> Portico {
        let state = try AccessState.replay(try await store.load())
        return Portico(state: state, store: store, clock: clock)
    }

    /// The latest committed snapshot.
    public var snapshot: AccessSnapshot { sequencer.snapshot }

    /// The revision of the last change accepted, whether or not the store holds it yet.
    var pendingRevision: Revision { sequencer.tentativeRevision }

    /// The latest snapshot, provided it has reached `revision`.
    /// - Throws: UNAVAILABLE (`REVISION_NOT_VISIBLE`) when it has not.
    public func snapshot(atLeast revision: Revision?) throws -> AccessSnapshot {
        let snapshot = sequencer.snapshot
        try snapshot.require(atLeast: revision)
        return snapshot
    }

    /// Applies `command` for `caller`; returns once the change is durable and visible to checks.
    /// - Parameter deadline: when the caller stops waiting. A command still queued behind its portfolio's
    ///   earlier changes when it passes is refused before it is validated, so it changes nothing.
    /// - Throws: `PorticoError`: the domain's refusal (nothing changed), DEADLINE_EXCEEDED (nothing
    ///   changed), or UNAVAILABLE if the store failed.
    @discardableResult
    public func execute(_ command: Command, as caller: Caller,
                        deadline: ContinuousClock.Instant? = nil) async throws -> CommandResult {
        let lane = command.lane(in: sequencer.snapshot.state).map { portfolio in
            lanes.withLock { lanes in
                if let lane = lanes[portfolio] { return lane }
                let lane = PortfolioLane()
                lanes[portfolio] = lane
                return lane
            }
        } ?? serviceLane
        return try await lane.run(command, caller: caller, deadline: deadline, sequencer: sequencer)
    }

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
