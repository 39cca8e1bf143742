import PorticoReasons

/// One Watch stream's place in the change log: the changes after a revision, then each new one as it
/// commits, read page by page from the published snapshots.
///
/// A feed holds no events and no snapshot between pages, only its cursor: every page is read from the
/// snapshot published at that moment, whose audit log holds every change since the first (sealed chunks
/// shared between snapshots). So history and live changes come from one source, in revision order,
/// without a gap or a repeat at the switch; writers never wait for a watcher; and a watcher that stops
/// reading costs its cursor, not a queue. On a node following a shared log, the changes the follower
/// applies are published the same way, so they are streamed too.
///
/// Not thread-safe: a transport drives each feed from one place at a time (the native port from its
/// connection's event loop, gRPC from the call's task).
public struct WatchFeed: Sendable {
    /// Who watches: authorized again for every page, so a revoked token or a lost admin role ends the
    /// stream at its next page.
    public let caller: Caller
    /// The one portfolio watched; nil for every portfolio's changes.
    public let portfolio: PortfolioID?
    /// Every revision up to this one has been read (sent, or skipped by the filter): where a stream that
    /// ends now resumes (`after_revision` of the next Watch).
    public private(set) var cursor: Revision
    private let portico: Portico

    init(portico: Portico, caller: Caller, portfolio: PortfolioID?, after revision: Revision) {
        self.portico = portico
        self.caller = caller
        self.portfolio = portfolio
        self.cursor = revision
    }

    /// Whether the feed has read every revision the node has published.
    public var caughtUp: Bool { cursor >= portico.snapshot.revision }

    /// The next events after the cursor, at most `limit`, from the snapshot published now, and that
    /// snapshot (to describe the events: a token's system user). The cursor moves past every revision
    /// read, those the filter skips included; a page reads at most the audit log's bounded stretch, so
    /// a filtered page may be empty while the feed is not caught up yet.
    /// - Throws: what `AccessSnapshot.authorizeAuditEvents` throws when the caller lost the right.
    public mutating func next(limit: Int) throws -> (events: [AuditEvent], snapshot: AccessSnapshot) {
        let snapshot = portico.snapshot
        try snapshot.authorizeAuditEvents(as: caller, portfolio: portfolio, now: portico.clock.now())
        guard cursor < snapshot.revision else { return ([], snapshot) }
        let page = try snapshot.auditEvents(after: cursor, portfolio: portfolio, limit: limit)
        cursor = page.nextPageToken ?? snapshot.revision
        return (page.items, snapshot)
    }

    /// Returns once the node has published a revision after the cursor.
    /// - Throws: `CancellationError` when the task is cancelled first.
    public func changed() async throws {
        _ = try await portico.snapshot(after: cursor)
    }
}

extension Portico {
    /// Opens a Watch stream for `caller`: the changes after `revision`, of `portfolio` only when given.
    /// - Throws: as ListAuditEvents when the caller may not read them (checked first, so an outsider
    ///   learns nothing of the revisions); UNAVAILABLE (`REVISION_NOT_VISIBLE`) for a revision this node
    ///   has not reached (in the future, or made on another node this one has not applied yet).
    public func watch(as caller: Caller, after revision: Revision, portfolio: PortfolioID?) throws -> WatchFeed {
        let snapshot = self.snapshot
        try snapshot.authorizeAuditEvents(as: caller, portfolio: portfolio, now: clock.now())
        guard revision <= snapshot.revision else {
            throw PorticoError(
                .unavailable,
                "after_revision \(revision) is beyond this node's revision \(snapshot.revision)",
                reason: .revisionNotVisible)
        }
        return WatchFeed(portico: self, caller: caller, portfolio: portfolio, after: revision)
    }
}
