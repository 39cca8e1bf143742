import HashTreeCollections
import PorticoCore

/// Facts that hold between whole changes; a snapshot showing half of a cascade breaks one of them.
enum StateInvariants {
    static func violations(in state: AccessState) -> [String] {
        var found: [String] = []
        if state.revision > 0, state.audit[state.revision] == nil {
            found.append("no audit event for the last revision")
        }
        if state.audit[state.revision + 1] != nil { found.append("an audit event from the future") }
        for (id, principal) in state.principals {
            if principal.removed, !principal.grants.isEmpty { found.append("removed principal \(id) keeps grants") }
            if principal.removed, state.members[principal.portfolio]?.contains(id) == true {
                found.append("removed principal \(id) still a member")
            }
            for (asset, grant) in principal.grants {
                guard let record = state.assets[asset] else {
                    found.append("principal \(id) holds a grant on missing asset \(asset)")
                    continue
                }
                if state.assignees[asset]?.contains(id) != true { found.append("index misses \(id) on \(asset)") }
                if record.owner != principal.portfolio {
                    guard let share = record.shares[principal.portfolio] else {
                        found.append("partner grant of \(id) on \(asset) without a share")
                        continue
                    }
                    if !share.effective.isSuperset(of: grant.effective) { found.append("grant of \(id) exceeds share") }
                }
            }
            if principal.removed {
                for token in state.principalTokens[id] ?? [] where state.tokens[token]?.revoked == false {
                    found.append("removed principal \(id) keeps live token \(token)")
                }
            }
        }
        for (id, asset) in state.assets {
            for (partner, _) in asset.shares where state.partnership(asset.owner, partner: partner) == nil {
                found.append("share of \(id) with \(partner) without the owner's partnership")
            }
        }
        for (portfolio, added) in state.partnerships {
            for (partner, _) in added where state.partneredBy[partner]?.contains(portfolio) != true {
                found.append("reverse index misses partnership \(portfolio) -> \(partner)")
            }
        }
        for (asset, holders) in state.assignees {
            for holder in holders where state.principals[holder]?.grants[asset] == nil {
                found.append("index lists \(holder) on \(asset) without a grant")
            }
        }
        found += checkIndexViolations(in: state)
        return found
    }

    /// The check's index says what the records say, entry for entry.
    static func checkIndexViolations(in state: AccessState) -> [String] {
        var found: [String] = []
        let index = state.checkIndex
        var assignments = 0
        var shares = 0
        for (id, principal) in state.principals {
            let facts = index.principal(id)
            if facts?.portfolio != principal.portfolio || facts?.kind != principal.kind
                || facts?.role != principal.role || facts?.removed != principal.removed
            {
                found.append("check index differs on principal \(id)")
            }
            for (asset, grant) in principal.grants where facts?.assignments[asset] != grant {
                found.append("check index differs on the assignment of \(id) on \(asset)")
            }
            for (asset, grant) in principal.grants {
                let pair = CheckIndex.Pair(id.rawValue, asset.rawValue)
                if state.expiring[principal.portfolio]?[pair] != grant.expiry {
                    found.append("the expiry index differs on the assignment of \(id) on \(asset)")
                }
            }
            assignments += principal.grants.count
        }
        for (id, asset) in state.assets {
            if index.asset(id)?.owner != asset.owner || index.asset(id)?.type != asset.type {
                found.append("check index differs on asset \(id)")
            }
            for (partner, share) in asset.shares where index.share(id, with: partner) != share.effective {
                found.append("check index differs on the share of \(id) with \(partner)")
            }
            shares += asset.shares.count
        }
        for (id, portfolio) in state.portfolios where index.status(id) != portfolio.status {
            found.append("check index differs on the status of portfolio \(id)")
        }
        found += externalIDViolations(in: state)
        let expiring = state.expiring.values.reduce(0) { $0 + $1.count }
        let expiringGrants = state.principals.values.reduce(0) { count, principal in
            count + principal.grants.filter { $0.value.expiry != nil }.count
        }
        if expiring != expiringGrants {
            found.append("the expiry index holds \(expiring) entries for \(expiringGrants)")
        }
        if index.entityCount != state.principals.count + state.assets.count + state.portfolios.count
            || index.assignmentCount != assignments || index.shares.count != shares
        {
            found.append("check index holds entries the records do not")
        }
        return found
    }

    /// The external id index holds exactly the external ids of the records (a removed principal's freed).
    static func externalIDViolations(in state: AccessState) -> [String] {
        var expected: [ExternalIndex.Key: UInt64] = [:]
        for (id, record) in state.portfolios {
            if let external = record.externalID {
                expected[ExternalIndex.Key(.portfolio, in: 0, external)] = id.rawValue
            }
        }
        for (id, record) in state.principals where !record.removed {
            if let external = record.externalID {
                expected[ExternalIndex.Key(ExternalKind(record.kind), in: record.portfolio.rawValue, external)] =
                    id.rawValue
            }
        }
        for (id, record) in state.apps {
            if let external = record.externalID {
                expected[ExternalIndex.Key(.app, in: record.portfolio.rawValue, external)] = id.rawValue
            }
        }
        for (id, record) in state.assets {
            if let external = record.externalID {
                expected[ExternalIndex.Key(.asset, in: record.owner.rawValue, external)] = id.rawValue
            }
        }
        let held = Dictionary(uniqueKeysWithValues: state.checkIndex.externalIDs.entries.map { ($0.key, $0.id) })
        return held == expected
            ? [] : ["the external id index holds \(held.count) ids for \(expected.count) in the records"]
    }
}
