/// The sweep of expired assignments: what removes them from the state, after checks stopped honouring
/// them at their time.
extension Portico {
    /// Removes the assignments that have expired by now, as the server's sweeper does every so often: one
    /// change per portfolio that holds any (`expireAssignments`, as the operator, in the log and in that
    /// portfolio's audit log). Nothing happens, and no revision is taken, when none has expired.
    /// - Returns: the changes made, one per portfolio swept.
    @discardableResult
    public func sweepExpiredAssignments() async throws -> [CommandResult] {
        var results: [CommandResult] = []
        for portfolio in snapshot.state.portfoliosWithExpiredAssignments(at: clock.now()) {
            results.append(try await execute(.expireAssignments(portfolio), as: .operator))
        }
        return results
    }
}
