/// A set of `AssetTask`s as one machine word, so that a check ends in a single AND.
public struct TaskSet: OptionSet, Hashable, Sendable, Codable {
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The set holding one task.
    @inlinable
    public init(_ task: AssetTask) { self.rawValue = 1 &<< UInt32(task.rawValue) }

    /// The set holding the given tasks.
    public init(_ tasks: some Sequence<AssetTask>) {
        self.rawValue = 0
        for task in tasks { insert(TaskSet(task)) }
    }

    /// Whether the set holds `task`; the hot path of every check.
    @inlinable
    public func contains(_ task: AssetTask) -> Bool { rawValue & (1 &<< UInt32(task.rawValue)) != 0 }

    /// The tasks in declaration order.
    public var tasks: [AssetTask] { AssetTask.allCases.filter { contains($0) } }

    /// The Graph API spellings, in declaration order.
    public var names: [String] { tasks.map(\.name) }
}

extension TaskSet: CustomStringConvertible {
    public var description: String { "[" + names.joined(separator: ",") + "]" }
}
