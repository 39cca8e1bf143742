/// How one subject's access to one asset would change: the answer of a preview.
public struct AccessChange: Hashable, Sendable {
    /// Whose access: a principal, or a token the previewed changes would revoke.
    public enum Subject: Hashable, Sendable {
        case principal(PrincipalID)
        case token(TokenID)
    }

    /// Where a change stands in a preview's order (principals first, then tokens; by id, then asset):
    /// the key a page goes on after.
    public struct Key: Hashable, Comparable, Sendable, CustomStringConvertible {
        /// 0 for a principal, 1 for a token.
        public let rank: UInt8
        public let subject: UInt64
        public let asset: UInt64

        public init(rank: UInt8, subject: UInt64, asset: UInt64) {
            self.rank = rank
            self.subject = subject
            self.asset = asset
        }

        public static func < (lhs: Self, rhs: Self) -> Bool {
            (lhs.rank, lhs.subject, lhs.asset) < (rhs.rank, rhs.subject, rhs.asset)
        }

        /// `<rank>.<subject>.<asset>`: a page token.
        public var description: String { "\(rank).\(subject).\(asset)" }

        /// Parses `description`.
        public init?(_ text: String) {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3, let rank = UInt8(parts[0]), rank <= 1, let subject = UInt64(parts[1]),
                let asset = UInt64(parts[2])
            else { return nil }
            self.init(rank: rank, subject: subject, asset: asset)
        }
    }

    public let subject: Subject
    /// The principal's portfolio (the token's system user's).
    public let portfolio: PortfolioID
    public let asset: AssetID
    /// Every task the subject can perform on the asset now, and could after the changes.
    public let before: TaskSet
    public let after: TaskSet

    public var gained: TaskSet { after.subtracting(before) }
    public var lost: TaskSet { before.subtracting(after) }

    public var key: Key {
        switch subject {
        case .principal(let id): Key(rank: 0, subject: id.rawValue, asset: asset.rawValue)
        case .token(let id): Key(rank: 1, subject: id.rawValue, asset: asset.rawValue)
        }
    }
}

/// What a preview answers: one page of access changes, with what each proposed change would do beyond
/// its target, at the revision it was computed at.
public struct Preview: Hashable, Sendable {
    public let changes: [AccessChange]
    /// Where the next page starts after; nil on the last page.
    public let next: AccessChange.Key?
    /// One line per proposed change, in order, as the audit log would summarise it: the target, then its
    /// cascades, joined by "; " (e.g. "principal:7; revoked token:9; unassigned asset:12").
    public let effects: [String]
    public let revision: Revision
}
