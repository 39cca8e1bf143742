/// The tasks valid for each asset type and what each one implies (docs/model.md, "Tasks per asset type"
/// and "What each task implies").
///
/// Closures are computed once, per type and per task, so that closing a grant is an OR per task held
/// and a check never computes a closure at all: grants store their closure when they are made.
public enum TaskLattice {
    /// The tasks that may be granted on an asset of `type`.
    @inlinable
    public static func validTasks(for type: AssetType) -> TaskSet {
        tables[Int(type.rawValue)].valid
    }

    /// `tasks` together with everything they imply on an asset of `type`.
    public static func closure(of tasks: TaskSet, for type: AssetType) -> TaskSet {
        let table = tables[Int(type.rawValue)]
        var result = TaskSet()
        for task in AssetTask.allCases where tasks.contains(task) {
            result.formUnion(table.closures[Int(task.rawValue)])
        }
        return result
    }

    @usableFromInline
    struct Table: Sendable {
        @usableFromInline let valid: TaskSet
        let closures: [TaskSet]

        init(valid: [AssetTask], implies: [AssetTask: [AssetTask]]) {
            self.valid = TaskSet(valid)
            var closures = [TaskSet](repeating: [], count: AssetTask.allCases.count)
            for task in valid {
                var seen = TaskSet(task)
                var stack = [task]
                while let next = stack.popLast() {
                    for implied in implies[next, default: []] where !seen.contains(implied) {
                        seen.insert(TaskSet(implied))
                        stack.append(implied)
                    }
                }
                closures[Int(task.rawValue)] = seen
            }
            self.closures = closures
        }
    }

    /// One table per `AssetType`, indexed by its raw value.
    @usableFromInline
    static let tables: [Table] = AssetType.allCases.map { type in
        switch type {
        case .adAccount:
            Table(valid: [.manage, .advertise, .draft, .analyze],
                  implies: [.manage: [.advertise], .advertise: [.draft, .analyze]])
        case .page:
            Table(valid: [.manage, .createContent, .moderate, .messaging, .advertise, .analyze],
                  implies: [.manage: [.createContent], .createContent: [.moderate],
                            .moderate: [.messaging, .advertise], .advertise: [.analyze]])
        case .catalog:
            Table(valid: [.manage, .advertise], implies: [.manage: [.advertise]])
        case .pixel:
            Table(valid: [.edit, .upload, .advertise, .analyze],
                  implies: [.edit: [.upload, .advertise], .advertise: [.analyze]])
        case .instagramAccount:
            Table(valid: [.content, .communityActivity, .messages, .advertise, .analyze],
                  implies: [.advertise: [.analyze]])
        case .whatsappBusinessAccount:
            Table(valid: [.manage, .manageTemplates, .viewTemplates, .managePhone, .managePhoneAssets,
                          .viewPhoneAssets, .develop, .messaging, .manageExtensions, .viewCost],
                  implies: [.manage: [.manageTemplates, .managePhone, .develop, .messaging,
                                      .manageExtensions, .viewCost],
                            .manageTemplates: [.viewTemplates],
                            .managePhone: [.managePhoneAssets], .managePhoneAssets: [.viewPhoneAssets]])
        }
    }
}
