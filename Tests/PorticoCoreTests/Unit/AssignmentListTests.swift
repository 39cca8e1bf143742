import Testing

@testable import PorticoCore

@Suite("A principal's assignment list in the check index")
struct AssignmentListTests {
    @Test("answers as a dictionary would, through the move to a hash tree and back down in size")
    func agreesWithDictionary() {
        var random = SystemRandomNumberGenerator()
        var list = AssignmentList.empty
        var reference: [UInt64: TaskSet] = [:]
        for step in 0..<2_000 {
            let asset = UInt64.random(in: 1...200, using: &random)
            let tasks: TaskSet? = step % 3 == 0 && step > 1_000 ? nil : TaskSet(rawValue: UInt32(step % 7 + 1))
            let before = list
            list[AssetID(asset)] = tasks.map { Grant(granted: $0, effective: $0) }
            reference[asset] = tasks
            #expect(before != list || before[AssetID(asset)]?.effective == tasks)
        }
        #expect(list.count == reference.count)
        for asset in 0...201 { #expect(list[AssetID(UInt64(asset))]?.effective == reference[UInt64(asset)]) }
        if case .large = list {} else { Issue.record("200 assets should have moved the list to a hash tree") }
    }

    @Test("a small and a large list with the same assignments are equal")
    func equalityAcrossForms() {
        var small = AssignmentList.empty
        var large = AssignmentList.empty
        for asset in 1...UInt64(AssignmentList.smallLimit + 1) {
            large[AssetID(asset)] = Grant(granted: TaskSet(.manage), type: .catalog)
        }
        large[AssetID(UInt64(AssignmentList.smallLimit + 1))] = nil
        for asset in 1...UInt64(AssignmentList.smallLimit) {
            small[AssetID(asset)] = Grant(granted: TaskSet(.manage), type: .catalog)
        }
        #expect(small == large && large == small)
        small[AssetID(1)] = Grant(granted: TaskSet(.advertise), type: .catalog)
        #expect(small != large)
    }
}
