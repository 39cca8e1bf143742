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

    @Test("keeps 16-byte entries, and the expiry entries agree with a dictionary through every change")
    func expiriesBesideEntries() {
        #expect(MemoryLayout<AssignmentList.Entry>.stride == 16)
        var random = SeededGenerator(state: 7)
        var list = AssignmentList.empty
        var reference: [UInt64: Grant] = [:]
        for step in 0..<3_000 {
            // Within the small form for most steps; then past it, so the expiries move into the tree.
            let asset = AssetID(random.next() % (step < 2_500 ? 60 : 90) + 1)
            let expiring = random.next() % 3 == 0
            let grant: Grant? = step % 5 == 0
                ? nil
                : Grant(granted: TaskSet(rawValue: UInt32(random.next() % 0xF_FFFF) | 1), type: .page,
                        expiresAt: expiring ? Timestamp(milliseconds: Int64(step) * 1_000) : .never)
            list[asset] = grant
            reference[asset.rawValue] = grant
            let probe = AssetID(random.next() % 91)
            #expect(list[probe] == reference[probe.rawValue])
            if step % 500 == 0 {
                // Iteration walks the entries and the expiries together.
                let walked = Dictionary(uniqueKeysWithValues: list.map { ($0.key.rawValue, $0.value) })
                #expect(walked == reference)
            }
        }
        #expect(list.count == reference.count)
        if case .large = list {} else { Issue.record("90 assets should have moved the list to a hash tree") }
        // A grant that stops expiring loses its expiry, and one that expires again gets its new time.
        let type = AssetType.catalog
        var small = AssignmentList.empty
        small[AssetID(1)] = Grant(granted: TaskSet(.manage), type: type, expiresAt: Timestamp(milliseconds: 5))
        small[AssetID(2)] = Grant(granted: TaskSet(.manage), type: type)
        small[AssetID(1)] = Grant(granted: TaskSet(.manage), type: type)
        #expect(small[AssetID(1)]?.expiry == nil && small[AssetID(2)]?.expiry == nil)
        small[AssetID(2)] = Grant(granted: TaskSet(.manage), type: type, expiresAt: Timestamp(milliseconds: 9))
        #expect(small[AssetID(2)]?.expiry == Timestamp(milliseconds: 9))
        #expect(small[AssetID(2)]?.granted == TaskSet(.manage), "the flag bit is not a task")
        // Two grants, one expiring: three 16-byte entries.
        if case .small(let entries) = small { #expect(entries.count == 3) } else { Issue.record("not small") }
        #expect(small.count == 2)
    }
}
