import ArgumentParser
import PorticoWire

struct AssetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "asset",
        abstract: "Manage assets and who is assigned to them.",
        subcommands: [Add.self, Get.self, List.self, Remove.self, Assign.self, Unassign.self, Assignments.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an asset to a portfolio; its id is in the answer.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The owner portfolio's id.") var portfolio: UInt64
        @Option(help: "The asset's type.") var type: AssetType
        @Option(help: "The asset's name: 1 to 200 characters.") var name: String
        @Option(name: .customLong("external-id"), help: "Your own id for it (1-128 of A-Z a-z 0-9 . _ - :).")
        var externalID = ""

        func run() async throws {
            try await self.connection.call(
                PorticoService.AddAsset.self,
                AddAssetRequest(
                    portfolioID: self.portfolio, type: self.type, name: self.name, externalID: self.externalID)
            )
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an asset.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The asset's id.") var id: UInt64

        func run() async throws {
            try await self.connection.call(PorticoService.GetAsset.self, GetAssetRequest(assetID: self.id))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the assets a portfolio owns.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The owner portfolio's id.") var portfolio: UInt64
        @Option(help: "Only assets of this type.") var type: AssetType?
        @OptionGroup var page: PageOptions

        func run() async throws {
            try await self.connection.call(
                PorticoService.ListAssets.self,
                ListAssetsRequest(
                    portfolioID: self.portfolio,
                    type: self.type ?? .unspecified,
                    pageSize: self.page.pageSize,
                    pageToken: self.page.pageToken
                )
            )
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an asset; its assignments and shares go with it.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The asset's id.") var id: UInt64

        func run() async throws {
            try await self.connection.call(PorticoService.RemoveAsset.self, RemoveAssetRequest(assetID: self.id))
        }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the tasks a person or system user has on an asset (replacing earlier ones).",
            discussion: "A task grants every task it implies; docs/model.md lists the tasks of each asset type."
        )
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The asset's id.") var asset: UInt64
        @OptionGroup var principal: PrincipalOptions
        @Option(name: .customLong("task"), help: "A task, e.g. ADVERTISE; repeat for several.") var tasks: [AssetTask]
        @Option(name: .customLong("expires-at"), help: ArgumentHelp(
            "When the assignment stops granting: an ISO 8601 UTC time such as 2026-01-31T00:00:00Z.",
            valueName: "time"))
        var expiresAt: String?

        func run() async throws {
            try await self.connection.call(
                PorticoService.AssignTasks.self,
                AssignTasksRequest(
                    principal: self.principal.wire, assetID: self.asset, tasks: self.tasks,
                    expiresAtUnixMicros: try self.expiresAt.map(ExternalIDCommand.micros) ?? 0)
            )
        }
    }

    struct Unassign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take a principal's assignment on an asset away.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The asset's id.") var asset: UInt64
        @OptionGroup var principal: PrincipalOptions

        func run() async throws {
            try await self.connection.call(
                PorticoService.UnassignTasks.self,
                UnassignTasksRequest(principal: self.principal.wire, assetID: self.asset)
            )
        }
    }

    struct Assignments: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the assignments of an asset, or of a principal.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "An asset's id: its assignments.") var asset: UInt64?
        @Option(help: "A person's id: its assignments.") var person: UInt64?
        @Option(name: .customLong("system-user"), help: "A system user's id: its assignments.") var systemUser: UInt64?
        @OptionGroup var page: PageOptions

        func validate() throws {
            guard [self.asset, self.person, self.systemUser].compactMap({ $0 }).count == 1 else {
                throw ValidationError("name exactly one of --asset, --person and --system-user")
            }
        }

        func run() async throws {
            if let asset {
                try await self.connection.call(
                    PorticoService.ListAssignmentsByAsset.self,
                    ListAssignmentsByAssetRequest(
                        assetID: asset, pageSize: self.page.pageSize, pageToken: self.page.pageToken)
                )
            } else {
                let principal = PrincipalOptions.wire(person: self.person, systemUser: self.systemUser)
                try await self.connection.call(
                    PorticoService.ListAssignmentsByPrincipal.self,
                    ListAssignmentsByPrincipalRequest(
                        principal: principal, pageSize: self.page.pageSize, pageToken: self.page.pageToken)
                )
            }
        }
    }
}

extension PrincipalOptions {
    var wire: Principal { Self.wire(person: self.person, systemUser: self.systemUser) }

    static func wire(person: UInt64?, systemUser: UInt64?) -> Principal {
        if let person { return Principal(kind: .person, id: person) }
        return Principal(kind: .systemUser, id: systemUser ?? 0)
    }
}
