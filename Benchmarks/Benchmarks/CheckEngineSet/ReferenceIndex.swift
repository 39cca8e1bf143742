import PorticoCore

/// The reference the check engine is measured against: a plain hash map from every assignment's
/// (principal, asset) pair to its tasks (closed under implication), probed with the same queries in
/// the same order. It answers the assigned-task question only (no roles, shares, statuses), so it is a
/// floor: what one hash lookup per check costs on this machine, which makes the engine's figure a ratio
/// that holds from machine to machine when nanoseconds do not.
public struct ReferenceIndex: Sendable {
    public struct Key: Hashable, Sendable {
        let principal: UInt64
        let asset: UInt64
    }

    private var tasks: [Key: TaskSet] = [:]

    public init() {}

    public var count: Int { self.tasks.count }

    mutating func insert(principal: PrincipalID, asset: AssetID, tasks: TaskSet) {
        self.tasks[Key(principal: principal.rawValue, asset: asset.rawValue)] = tasks
    }

    /// Whether the pair was assigned a set that holds `task`.
    @inline(__always)
    public func allows(principal: PrincipalID, asset: AssetID, task: AssetTask) -> Bool {
        self.tasks[Key(principal: principal.rawValue, asset: asset.rawValue)]?.contains(task) ?? false
    }
}
