import HashTreeCollections
import PorticoReasons

/// An immutable view of the whole model at one revision: what every check and lookup reads.
///
/// A final class so that publishing and taking a snapshot moves one reference; immutable (`let`
/// of a value type built from persistent collections), so any number of threads read it at once.
public final class AccessSnapshot: Sendable {
    /// The state this snapshot shows.
    public let state: AccessState

    /// The revision this snapshot shows: every change up to it and none after.
    public var revision: Revision { state.revision }

    public init(_ state: AccessState) { self.state = state }

    /// Fails unless this snapshot has reached `revision` (the caller's "at least revision R").
    /// - Throws: UNAVAILABLE with reason `REVISION_NOT_VISIBLE`; retrying later (or waiting) helps.
    public func require(atLeast revision: Revision?) throws {
        guard let revision, revision > state.revision else { return }
        throw PorticoError(.unavailable, "revision \(revision) is not visible yet (at \(state.revision))",
                           reason: .revisionNotVisible)
    }

    /// May `principal` perform `task` on `asset` at `now` (an expiring assignment's time)? No caller
    /// check, no allocation.
    public func check(principal: PrincipalID, asset: AssetID, task: AssetTask, now: Timestamp) -> Decision {
        var trace = NoTrace()
        return Decision(evaluate(principal: principal, asset: asset, task: task, coverage: nil, now: now, &trace),
                        revision: state.revision)
    }

    /// May the system user behind `token` perform `task` on `asset`, within the token's scopes, at `now`?
    public func check(token: TokenID, asset: AssetID, task: AssetTask, now: Timestamp) -> Decision {
        var trace = NoTrace()
        return Decision(evaluate(token: token, asset: asset, task: task, now: now, &trace), revision: state.revision)
    }

    /// The principal check with the path it took.
    public func explain(principal: PrincipalID, asset: AssetID, task: AssetTask, now: Timestamp) -> Explanation {
        var trace = StepTrace()
        let reason = evaluate(principal: principal, asset: asset, task: task, coverage: nil, now: now, &trace)
        return Explanation(decision: Decision(reason, revision: state.revision), steps: trace.steps)
    }

    /// The token check with the path it took.
    public func explain(token: TokenID, asset: AssetID, task: AssetTask, now: Timestamp) -> Explanation {
        var trace = StepTrace()
        let reason = evaluate(token: token, asset: asset, task: task, now: now, &trace)
        return Explanation(decision: Decision(reason, revision: state.revision), steps: trace.steps)
    }

    /// Several checks against this one snapshot, so they all answer at the same revision.
    public func check(batch requests: [CheckRequest], now: Timestamp) -> [Decision] {
        requests.map { request in
            switch request.subject {
            case .principal(let principal):
                check(principal: principal, asset: request.asset, task: request.task, now: now)
            case .token(let token): check(token: token, asset: request.asset, task: request.task, now: now)
            }
        }
    }
}
