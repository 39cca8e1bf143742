import HashTreeCollections
import PorticoReasons

/// Previews: what proposed changes would do to access, computed on a copy of this snapshot's state.
///
/// The changes are applied in order to the copy, for the caller, through `AccessState.apply`: the same
/// validation, authorization and cascades as the real changes, so a preview cannot promise what the
/// change would refuse. Then every (subject, asset) the changes could have touched is checked before and
/// after, task by task, with the check itself: a preview lists exactly where the checks would answer
/// differently, and explains nothing the check would not.
extension AccessSnapshot {
    /// The most changes one preview takes.
    public static let maxPreviewChanges = 100

    /// What `commands`, made in order by `caller` at `now`, would change: the page after `after`.
    /// - Throws: what the first command that would be refused throws (its message names its position);
    ///   INVALID_ARGUMENT for no command, more than `maxPreviewChanges`, a command that is not one of the
    ///   previewable ones, or a page limit outside 1 to 1000.
    public func preview(_ commands: [Command], as caller: Caller, now: Timestamp,
                        after: AccessChange.Key? = nil, limit: Int = 100) throws -> Preview {
        try PageRequest(limit: limit).validate()
        guard (1...Self.maxPreviewChanges).contains(commands.count) else {
            throw PorticoError.invalid("a preview takes 1 to \(Self.maxPreviewChanges) changes, not \(commands.count)")
        }
        var working = state
        var pairs = Set<CheckIndex.Pair>()
        var tokens = Set<TokenID>()
        var touched = Set<PrincipalID>()
        var effects: [String] = []
        for (index, command) in commands.enumerated() {
            guard command.isPreviewable else {
                throw PorticoError.invalid("change \(index + 1): \(command.name) cannot be previewed")
            }
            working.candidates(of: command, pairs: &pairs, tokens: &tokens, touched: &touched)
            var context = ApplyContext(caller: caller, now: now, source: .live)
            do {
                _ = try working.apply(command, &context)
            } catch var error as PorticoError {
                error.message = "change \(index + 1) (\(command.name)): \(error.message)"
                throw error
            }
            effects.append(([context.target] + context.effects.sorted()).joined(separator: "; "))
        }
        for principal in touched {
            for asset in state.reach(of: principal).union(working.reach(of: principal)) {
                pairs.insert(CheckIndex.Pair(principal.rawValue, asset.rawValue))
            }
        }
        let afterwards = AccessSnapshot(working)
        var changes: [AccessChange] = []
        for pair in pairs {
            let principal = PrincipalID(pair.first), asset = AssetID(pair.second)
            let before = self.tasks(of: .principal(principal), on: asset, now: now)
            let later = afterwards.tasks(of: .principal(principal), on: asset, now: now)
            guard before != later, let home = state.principals[principal]?.portfolio else { continue }
            changes.append(AccessChange(subject: .principal(principal), portfolio: home, asset: asset, before: before,
                                        after: later))
        }
        for token in tokens {
            guard let record = state.tokens[token], !record.revoked, working.tokens[token]?.revoked == true else {
                continue
            }
            for asset in state.reach(of: record.principal) {
                let before = self.tasks(of: .token(token), on: asset, now: now)
                let later = afterwards.tasks(of: .token(token), on: asset, now: now)
                guard before != later else { continue }
                changes.append(AccessChange(subject: .token(token), portfolio: record.portfolio, asset: asset,
                                            before: before, after: later))
            }
        }
        let sorted = changes.filter { after == nil || $0.key > after! }.sorted { $0.key < $1.key }
        let page = Array(sorted.prefix(limit))
        return Preview(changes: page, next: sorted.count > limit ? page.last?.key : nil, effects: effects,
                       revision: state.revision)
    }

    /// Every task `subject` can perform on `asset` at `now`, by the check: nothing for an asset that does
    /// not exist here.
    func tasks(of subject: AccessChange.Subject, on asset: AssetID, now: Timestamp) -> TaskSet {
        guard let type = state.checkIndex.asset(asset)?.type else { return [] }
        var tasks = TaskSet()
        for task in TaskLattice.validTasks(for: type).tasks {
            let decision =
                switch subject {
                case .principal(let principal): check(principal: principal, asset: asset, task: task, now: now)
                case .token(let token): check(token: token, asset: asset, task: task, now: now)
                }
            if decision.allowed { tasks.insert(TaskSet(task)) }
        }
        return tasks
    }
}

extension Command {
    /// Whether a preview takes the command: the changes that take access away or move it.
    var isPreviewable: Bool {
        switch self {
        case .assign, .unassign, .removePrincipal, .share, .unshare, .removePartner, .removeAsset, .revokeToken,
            .revokeAllTokens:
            true
        default:
            false
        }
    }
}

extension AccessState {
    /// Every asset `principal` could reach here: its portfolio's own and those shared with it (an admin's),
    /// and those it is assigned.
    func reach(of principal: PrincipalID) -> Set<AssetID> {
        guard let record = principals[principal] else { return [] }
        var assets = Set(record.grants.keys)
        if record.role == .admin {
            assets.formUnion(ownedAssets[record.portfolio] ?? [])
            assets.formUnion(sharedIn[record.portfolio] ?? [])
        }
        return assets
    }

    /// The (principal, asset) pairs and tokens whose access `command` may change, found in the state it
    /// applies to; `touched` gets the principals whose every asset may change.
    func candidates(of command: Command, pairs: inout Set<CheckIndex.Pair>, tokens: inout Set<TokenID>,
                    touched: inout Set<PrincipalID>) {
        /// The principals of `portfolio` that may reach `asset` through a share: its admins and assignees.
        func recipients(_ asset: AssetID, in portfolio: PortfolioID) {
            for id in members[portfolio] ?? [] {
                guard let record = principals[id], record.role == .admin || record.grants[asset] != nil else {
                    continue
                }
                pairs.insert(CheckIndex.Pair(id.rawValue, asset.rawValue))
            }
        }
        switch command {
        case .assign(let principal, let asset, _, _), .unassign(let principal, let asset):
            pairs.insert(CheckIndex.Pair(principal.rawValue, asset.rawValue))
        case .removePrincipal(let principal):
            touched.insert(principal)
            tokens.formUnion(principalTokens[principal] ?? [])
        case .share(let asset, let partner, _), .unshare(let asset, let partner):
            recipients(asset, in: partner)
        case .removePartner(let portfolio, let partner):
            for (owner, holder) in [(portfolio, partner), (partner, portfolio)] {
                for asset in sharedIn[holder] ?? [] where assets[asset]?.owner == owner {
                    recipients(asset, in: holder)
                }
            }
        case .removeAsset(let asset):
            guard let record = assets[asset] else { return }
            recipients(asset, in: record.owner)
            for (partner, _) in record.shares { recipients(asset, in: partner) }
        case .revokeToken(let token):
            tokens.insert(token)
        case .revokeAllTokens(let principal):
            tokens.formUnion(principalTokens[principal] ?? [])
        default:
            break
        }
    }
}
