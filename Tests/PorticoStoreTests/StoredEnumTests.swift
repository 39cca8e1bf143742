import PorticoWire
import Testing

@testable import PorticoCore
@testable import PorticoStore

/// The storage encoding's fixed points: task, scope and asset-type numbering shared with the proto, and
/// every command through a `StoredChange` and back.
@Suite("Stored change encoding")
struct StoredEnumTests {
    @Test("a core task, scope or asset type with raw value r is the proto value r + 1, name by name")
    func numbering() {
        for task in PorticoCore.AssetTask.allCases {
            #expect(
                PorticoWire.AssetTask(rawValue: Int32(task.rawValue) + 1)?.protoValueName == "ASSET_TASK_" + task.name)
        }
        for scope in PorticoCore.Scope.allCases {
            #expect(
                PorticoWire.Scope(rawValue: Int32(scope.rawValue) + 1)?.protoValueName
                    == "SCOPE_" + scope.name.uppercased())
        }
        for type in PorticoCore.AssetType.allCases {
            #expect(StoredEnums.wire(type).protoValueName == "ASSET_TYPE_" + type.name)
        }
    }

    static let commands: [Command] = [
        .createPortfolio(name: "Acme", tier: .advanced), .setPortfolioStatus(PortfolioID(1), .restricted),
        .setSystemUserTier(PortfolioID(1), .standard), .issueServiceCredential(name: "svc"),
        .revokeServiceCredential(CredentialID(2)), .addPerson(PortfolioID(1), name: "ann", role: .admin),
        .setRole(PrincipalID(3), .employee), .removePrincipal(PrincipalID(3)), .createApp(PortfolioID(1), name: "app"),
        .addSystemUser(PortfolioID(1), name: "bot", role: .employee),
        .addAsset(PortfolioID(1), type: .whatsappBusinessAccount, name: "wa"), .removeAsset(AssetID(4)),
        .assign(PrincipalID(3), AssetID(4), TaskSet([.manageTemplates, .viewCost])),
        .unassign(PrincipalID(3), AssetID(4)),
        .share(AssetID(4), with: PortfolioID(5), TaskSet(.advertise)), .unshare(AssetID(4), from: PortfolioID(5)),
        .addPartner(PortfolioID(1), partner: PortfolioID(5)), .removePartner(PortfolioID(1), partner: PortfolioID(5)),
        .requestShare(AssetID(4), by: PortfolioID(5), TaskSet(.analyze)), .approveShareRequest(ShareRequestID(6)),
        .declineShareRequest(ShareRequestID(7)),
        .generateToken(
            PrincipalID(3), app: AppID(8), scopes: ScopeSet([.adsRead, .whatsappBusinessMessaging]),
            expiry: .sixtyDays),
        .revokeToken(TokenID(9)), .revokeAllTokens(PrincipalID(3)),
    ]

    @Test("every command and caller survives the StoredChange encoding, with and without its envelope")
    func roundTrip() throws {
        var coder = ChangeCoding()
        let callers: [Caller] = [
            .operator, .service(CredentialID(2)), .service(CredentialID(2), onBehalfOf: PrincipalID(3)),
            .systemUser(TokenID(9)),
        ]
        for (index, command) in Self.commands.enumerated() {
            let change = Change(
                revision: Revision(index + 1), time: Timestamp(milliseconds: 1_800_000_000_000 + Int64(index)),
                caller: callers[index % callers.count], command: command,
                secretDigests: index % 2 == 0 ? [SecretDigest(of: "secret \(index)")] : [])
            let whole = try coder.encode(change, envelope: true)
            #expect(try whole.withUnsafeBytes { try coder.decode($0) } == change)
            let bare = try coder.encode(change, envelope: false)
            #expect(bare.count < whole.count)
            #expect(
                try bare.withUnsafeBytes { try coder.decode($0, revision: change.revision, time: change.time) }
                    == change)
        }
    }

    @Test("bytes that are not a change, or name an unknown task bit, are refused as corrupt")
    func refusals() throws {
        var coder = ChangeCoding()
        let garbage: [UInt8] = [0xFF, 0xFF, 0xFF, 0x0F]
        #expect(throws: StoreError.self) { try garbage.withUnsafeBytes { try coder.decode($0) } }
        let empty: [UInt8] = []
        #expect(throws: StoreError.self) { try empty.withUnsafeBytes { try coder.decode($0) } }
        var message = ChangeCoding.message(
            Change(
                revision: 1, time: Timestamp(milliseconds: 0), caller: .operator,
                command: .assign(PrincipalID(1), AssetID(2), TaskSet(.manage)),
                secretDigests: []), envelope: true)
        message.command = .assign(.init(first: 1, second: 2, tasks: 1 << 30))
        #expect(throws: (any Error).self) { try ChangeCoding.change(message, revision: nil, time: nil) }
        _ = try coder.encode(
            Change(
                revision: 1, time: Timestamp(milliseconds: 0), caller: .operator,
                command: .removeAsset(AssetID(1)), secretDigests: []), envelope: false)
    }
}
