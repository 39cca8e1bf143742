import HashTreeCollections

/// The actor that owns one portfolio's stream of changes: it runs them one at a time, in arrival order,
/// each until it is durable and published, so a portfolio never has two of its own changes in flight.
///
/// Different portfolios' lanes run at once and their changes are group-committed together by the
/// `Sequencer`. The state itself is one persistent value (see `Sequencer`): that is what makes a
/// cross-portfolio change (share, unshare, remove partner, approve a request) one atomic step, with its
/// preconditions re-checked exactly where its revision is assigned.
actor PortfolioLane {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Runs `command` once every earlier command of this lane has finished, unless `deadline` passed
    /// while it waited (the sequencer refuses it then).
    func run(_ command: Command, caller: Caller, deadline: ContinuousClock.Instant? = nil,
             sequencer: Sequencer) async throws -> CommandResult {
        if busy {
            // `release()` hands the lane straight to us, so `busy` stays true.
            await withCheckedContinuation { waiting.append($0) }
        } else {
            busy = true
        }
        defer { release() }
        return try await sequencer.commit(command, caller: caller, deadline: deadline)
    }

    private func release() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }
}

extension Command {
    /// The portfolio whose lane runs this command; nil for service-wide commands.
    ///
    /// Read from the published snapshot: a wrong guess (the target changed meanwhile) costs only
    /// ordering, never correctness, because the sequencer validates against the latest state.
    func lane(in state: AccessState) -> PortfolioID? {
        switch self {
        case .createPortfolio, .issueServiceCredential, .revokeServiceCredential:
            nil
        case .setPortfolioStatus(let portfolio, _), .setSystemUserTier(let portfolio, _),
             .addPerson(let portfolio, _, _), .createApp(let portfolio, _), .addSystemUser(let portfolio, _, _),
             .addAsset(let portfolio, _, _), .addPartner(let portfolio, _), .removePartner(let portfolio, _),
             .requestShare(_, let portfolio, _):
            portfolio
        case .setRole(let principal, _), .removePrincipal(let principal), .assign(let principal, _, _),
             .unassign(let principal, _), .generateToken(let principal, _, _, _), .revokeAllTokens(let principal):
            state.principals[principal]?.portfolio
        case .removeAsset(let asset), .share(let asset, _, _), .unshare(let asset, _):
            state.assets[asset]?.owner
        case .approveShareRequest(let request), .declineShareRequest(let request):
            state.shareRequests[request].flatMap { state.assets[$0.asset]?.owner }
        case .revokeToken(let token):
            state.tokens[token]?.portfolio
        }
    }
}
