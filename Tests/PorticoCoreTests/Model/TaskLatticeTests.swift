@testable import PorticoCore
import Testing

@Suite("Task lattice and scopes")
struct TaskLatticeTests {
    /// The lattice of docs/model.md, written out by hand as full closures: (type, task, everything it grants).
    static let closures: [(AssetType, AssetTask, [AssetTask])] = [
        (.adAccount, .manage, [.manage, .advertise, .draft, .analyze]),
        (.adAccount, .advertise, [.advertise, .draft, .analyze]),
        (.adAccount, .draft, [.draft]),
        (.page, .manage, [.manage, .createContent, .moderate, .messaging, .advertise, .analyze]),
        (.page, .createContent, [.createContent, .moderate, .messaging, .advertise, .analyze]),
        (.page, .moderate, [.moderate, .messaging, .advertise, .analyze]),
        (.page, .advertise, [.advertise, .analyze]),
        (.catalog, .manage, [.manage, .advertise]),
        (.pixel, .edit, [.edit, .upload, .advertise, .analyze]),
        (.pixel, .advertise, [.advertise, .analyze]),
        (.instagramAccount, .advertise, [.advertise, .analyze]),
        (.instagramAccount, .content, [.content]),
        (.whatsappBusinessAccount, .manage, [.manage, .manageTemplates, .viewTemplates, .managePhone,
                                             .managePhoneAssets, .viewPhoneAssets, .develop, .messaging,
                                             .manageExtensions, .viewCost]),
        (.whatsappBusinessAccount, .managePhone, [.managePhone, .managePhoneAssets, .viewPhoneAssets]),
        (.whatsappBusinessAccount, .manageTemplates, [.manageTemplates, .viewTemplates]),
    ]

    @Test("each task's closure is what docs/model.md lists", arguments: closures.indices)
    func closure(_ index: Int) {
        let (type, task, expected) = Self.closures[index]
        #expect(TaskLattice.closure(of: TaskSet(task), for: type) == TaskSet(expected))
    }

    @Test("closures stay inside the valid set and are idempotent", arguments: AssetType.allCases)
    func closed(_ type: AssetType) {
        let valid = TaskLattice.validTasks(for: type)
        for task in valid.tasks {
            let once = TaskLattice.closure(of: TaskSet(task), for: type)
            #expect(valid.isSuperset(of: once))
            #expect(TaskLattice.closure(of: once, for: type) == once)
        }
        #expect(TaskLattice.closure(of: valid, for: type) == valid)
    }

    @Test("no scope covers a task outside the type's valid set", arguments: Scope.allCases)
    func scopeWithinValid(_ scope: Scope) {
        for type in AssetType.allCases {
            #expect(TaskLattice.validTasks(for: type).isSuperset(of: scope.covers(type)))
        }
    }

    @Test("scope coverage is exact, not closed")
    func scopesExact() {
        #expect(Scope.pagesManagePosts.covers(.page) == TaskSet(.createContent))
        #expect(Scope.adsManagement.covers(.pixel) == TaskSet(.advertise))
        #expect(Scope.whatsappBusinessManagement.covers(.whatsappBusinessAccount).contains(.messaging) == false)
        #expect(Scope.businessManagement.covers(.adAccount).isEmpty)
        let coverage = ScopeCoverage(ScopeSet([.adsRead, .instagramBasic]))
        #expect(coverage[.adAccount] == TaskSet(.analyze) && coverage[.instagramAccount] == TaskSet(.analyze))
        #expect(coverage[.page].isEmpty)
    }

    @Test("names round-trip")
    func names() {
        for task in AssetTask.allCases { #expect(AssetTask(name: task.name) == task) }
        for type in AssetType.allCases { #expect(AssetType(name: type.name) == type) }
        for scope in Scope.allCases { #expect(Scope(name: scope.name) == scope) }
    }
}
