import ArgumentParser
import Foundation
import NIOCore
import PorticoClient
import PorticoCore
import PorticoWire

/// How big a data set to build. Each portfolio has an admin person, `people` employees and
/// `systemUsers` regular system users (each with a token), `assets` assets of every type, and every
/// employee and system user assigned to `assignedPerMember` of the assets.
struct DataSetSize: Sendable, CustomStringConvertible {
    var portfolios: Int
    var people = 20
    var systemUsers = 5
    var assets = 20
    var assignedPerMember = 10

    var assignments: Int { self.portfolios * (self.people + self.systemUsers) * self.assignedPerMember }

    var description: String {
        "\(self.portfolios) portfolios, \(self.portfolios * (self.people + self.systemUsers + 1)) principals, "
            + "\(self.portfolios * self.assets) assets, \(self.assignments) assignments, \(self.portfolios * self.systemUsers) tokens"
    }

    static func named(_ name: String) throws -> DataSetSize {
        switch name {
        case "small": return DataSetSize(portfolios: 40)  // 10,000 assignments
        case "medium": return DataSetSize(portfolios: 400)  // 100,000
        case "large": return DataSetSize(portfolios: 4000)  // 1,000,000
        default:
            guard let portfolios = Int(name), portfolios > 0 else {
                throw ValidationError("--size is small, medium, large or a number of portfolios")
            }
            return DataSetSize(portfolios: portfolios)
        }
    }
}

/// A data set built through the API, reproducible from its seed: what was created, and the request
/// pools the workloads draw from, with popularity skewed by a Zipf law (a few principals are hot).
struct DataSet: Sendable {
    struct Member: Sendable {
        let id: UInt64
        let kind: PorticoWire.PrincipalKind
        let portfolio: Int
        let token: String?
    }

    struct Asset: Sendable {
        let id: UInt64
        let type: PorticoCore.AssetType
    }

    let size: DataSetSize
    let members: [Member]
    let admins: [UInt64]
    let assets: [[Asset]]
    let seed: UInt64
    let zipf: Double

    /// Builds the set with `concurrency` portfolios under construction at once.
    static func build(_ client: PorticoClient, size: DataSetSize, seed: UInt64, zipf: Double,
                      concurrency: Int = 16, progress: (Int) -> Void) async throws -> DataSet
    {
        let scopes = PorticoWire.Scope.allCases.filter { $0 != .unspecified && $0 != .businessManagement }
        var built = [(id: UInt64, admin: UInt64, members: [Member], assets: [Asset])?](repeating: nil, count: size.portfolios)
        try await withThrowingTaskGroup(of: (Int, UInt64, UInt64, [Member], [Asset]).self) { group in
            var next = 0
            func startNext() {
                guard next < size.portfolios else { return }
                let index = next
                next += 1
                group.addTask {
                    var random = SplitMix(state: seed &+ UInt64(index) &* 0x9E37_79B9)
                    let portfolio = try await client.createPortfolio(.init(name: "bench \(index)", systemUserTier: .advanced)).portfolio!.id
                    let app = try await client.addApp(.init(portfolioID: portfolio, name: "app")).app!.id
                    let admin = try await client.addPerson(.init(portfolioID: portfolio, name: "admin", role: .admin)).person!.id
                    var assets: [Asset] = []
                    for number in 0..<size.assets {
                        let type = PorticoCore.AssetType.allCases[number % PorticoCore.AssetType.allCases.count]
                        let id = try await client.addAsset(.init(portfolioID: portfolio, type: wire(type), name: "asset \(number)")).asset!.id
                        assets.append(Asset(id: id, type: type))
                    }
                    var members: [Member] = []
                    for number in 0..<size.people {
                        let id = try await client.addPerson(.init(portfolioID: portfolio, name: "person \(number)", role: .employee)).person!.id
                        members.append(Member(id: id, kind: .person, portfolio: index, token: nil))
                    }
                    for number in 0..<size.systemUsers {
                        let id = try await client.createSystemUser(.init(portfolioID: portfolio, name: "su \(number)", role: .employee))
                            .systemUser!.id
                        let token = try await client.generateToken(.init(systemUserID: id, appID: app, scopes: scopes)).secret
                        members.append(Member(id: id, kind: .systemUser, portfolio: index, token: token))
                    }
                    for member in members {
                        var chosen = Array(assets.indices)
                        chosen.shuffle(using: &random)
                        for assetIndex in chosen.prefix(size.assignedPerMember) {
                            let asset = assets[assetIndex]
                            let task = TaskLattice.validTasks(for: asset.type).tasks.randomElement(using: &random)!
                            _ = try await client.assignTasks(
                                .init(principal: Principal(kind: member.kind, id: member.id), assetID: asset.id, tasks: [wire(task)])
                            )
                        }
                    }
                    return (index, portfolio, admin, members, assets)
                }
            }
            for _ in 0..<concurrency { startNext() }
            var finished = 0
            while let (index, portfolio, admin, members, assets) = try await group.next() {
                built[index] = (portfolio, admin, members, assets)
                finished += 1
                progress(finished)
                startNext()
            }
        }
        let portfolios = built.map { $0! }
        // Partners: each portfolio takes the next as a partner and shares its first two assets with
        // it, every task, so that partner checks (shared admin role, shared assignment) are exercised.
        if portfolios.count > 1 {
            for index in portfolios.indices {
                let owner = portfolios[index].id
                let partner = portfolios[(index + 1) % portfolios.count].id
                _ = try await client.addPartner(.init(portfolioID: owner, partnerPortfolioID: partner))
                for asset in portfolios[index].assets.prefix(2) {
                    _ = try await client.shareAsset(
                        .init(assetID: asset.id, partnerPortfolioID: partner, tasks: TaskLattice.validTasks(for: asset.type).tasks.map(wire))
                    )
                }
            }
        }
        return DataSet(size: size, members: portfolios.flatMap(\.members), admins: portfolios.map(\.admin),
                       assets: portfolios.map(\.assets), seed: seed, zipf: zipf)
    }

    /// `count` check questions, principals drawn by popularity: 85% on the principal's own
    /// portfolio's assets, 15% on the previous portfolio's (shared or not), tasks valid for the asset,
    /// so that answers mix allowed and denied as in real traffic.
    func questions(_ count: Int, byToken: Bool, salt: UInt64) -> [(member: Member, asset: UInt64, task: PorticoCore.AssetTask)] {
        var random = SplitMix(state: self.seed ^ salt)
        let candidates = byToken ? self.members.filter { $0.token != nil } : self.members
        let popularity = Zipf(count: candidates.count, exponent: self.zipf, seed: self.seed ^ salt ^ 0xA5A5)
        var result: [(member: Member, asset: UInt64, task: PorticoCore.AssetTask)] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            let member = candidates[popularity.next(using: &random)]
            let roll = Int.random(in: 0..<100, using: &random)
            let portfolio = roll < 85 ? member.portfolio : (member.portfolio + self.assets.count - 1) % self.assets.count
            let asset = self.assets[portfolio].randomElement(using: &random)!
            let task = TaskLattice.validTasks(for: asset.type).tasks.randomElement(using: &random)!
            result.append((member, asset.id, task))
        }
        return result
    }

    /// Check requests by principal (or by token), encoded once.
    func checkCalls(_ count: Int, byToken: Bool) throws -> [PreparedCall] {
        try self.questions(count, byToken: byToken, salt: byToken ? 2 : 1).map { question in
            let subject: CheckPermissionRequest.Subject =
                byToken ? .token(question.member.token!) : question.member.kind == .person ? .personID(question.member.id) : .systemUserID(question.member.id)
            let request = CheckPermissionRequest(assetID: question.asset, task: wire(question.task), subject: subject)
            return PreparedCall(method: UInt32(PorticoWire.Method.checkPermission.rawValue), body: ByteBuffer(bytes: try request.encoded()),
                                checks: 1, isWrite: false)
        }
    }

    /// Batches of `batch` checks by principal.
    func batchCalls(_ count: Int, batch: Int) throws -> [PreparedCall] {
        let questions = self.questions(count * batch, byToken: false, salt: 3)
        return try stride(from: 0, to: questions.count, by: batch).map { start in
            let items = questions[start..<start + batch].map { question in
                CheckItem(assetID: question.asset, task: wire(question.task),
                          subject: question.member.kind == .person ? .personID(question.member.id) : .systemUserID(question.member.id))
            }
            return PreparedCall(method: UInt32(PorticoWire.Method.batchCheckPermissions.rawValue),
                                body: ByteBuffer(bytes: try BatchCheckPermissionsRequest(checks: items).encoded()), checks: batch, isWrite: false)
        }
    }

    /// Lookups: the assets a principal can perform a task on (one page of up to 100).
    func lookupCalls(_ count: Int) throws -> [PreparedCall] {
        try self.questions(count, byToken: false, salt: 4).map { question in
            let request = ListAccessibleAssetsRequest(principal: Principal(kind: question.member.kind, id: question.member.id),
                                                      task: wire(question.task), pageSize: 100)
            return PreparedCall(method: UInt32(PorticoWire.Method.listAccessibleAssets.rawValue), body: ByteBuffer(bytes: try request.encoded()),
                                checks: 0, isWrite: false)
        }
    }

    /// Durable writes: assignments changed to another valid task, on the principal's own
    /// portfolio (where the operator may assign anything), popular principals as often as they are
    /// checked.
    func writeCalls(_ count: Int) throws -> [PreparedCall] {
        try self.writeRequests(count).map { request in
            PreparedCall(method: UInt32(PorticoWire.Method.assignTasks.rawValue), body: ByteBuffer(bytes: try request.encoded()),
                         checks: 0, isWrite: true)
        }
    }

    /// The requests of `writeCalls`, not encoded (for a client that awaits each answer).
    func writeRequests(_ count: Int) -> [AssignTasksRequest] {
        self.questions(count * 2, byToken: false, salt: 5)
            .filter { question in self.assets[question.member.portfolio].contains { $0.id == question.asset } }
            .prefix(count)
            .map { question in
                AssignTasksRequest(principal: Principal(kind: question.member.kind, id: question.member.id),
                                   assetID: question.asset, tasks: [wire(question.task)])
            }
    }

    static func pingCalls() -> [PreparedCall] {
        [PreparedCall(method: UInt32(PorticoWire.Method.ping.rawValue), body: ByteBuffer(), checks: 0, isWrite: false)]
    }
}

func wire(_ type: PorticoCore.AssetType) -> PorticoWire.AssetType {
    PorticoWire.AssetType(protoValueName: "ASSET_TYPE_" + type.name)!
}

func wire(_ task: PorticoCore.AssetTask) -> PorticoWire.AssetTask {
    PorticoWire.AssetTask(protoValueName: "ASSET_TASK_" + task.name)!
}

/// Zipf-distributed ranks over `count` items, the ranks mapped to items by a seeded permutation so
/// that the hot items are not the first ones created.
struct Zipf: Sendable {
    let cumulative: [Double]
    let order: [Int]

    init(count: Int, exponent: Double, seed: UInt64) {
        var total = 0.0
        var cumulative: [Double] = []
        cumulative.reserveCapacity(count)
        for rank in 1...max(1, count) {
            total += exponent == 0 ? 1 : 1 / pow(Double(rank), exponent)
            cumulative.append(total)
        }
        self.cumulative = cumulative.map { $0 / total }
        var random = SplitMix(state: seed)
        self.order = Array(0..<count).shuffled(using: &random)
    }

    func next(using random: inout SplitMix) -> Int {
        let u = Double.random(in: 0..<1, using: &random)
        var low = 0
        var high = self.cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if self.cumulative[middle] < u { low = middle + 1 } else { high = middle }
        }
        return self.order[low]
    }
}

/// SplitMix64, so that a seed gives the same set on every run.
struct SplitMix: RandomNumberGenerator, Sendable {
    var state: UInt64

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
