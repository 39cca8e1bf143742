import ArgumentParser
import PorticoWire

struct PersonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "person",
        abstract: "Manage the people of a portfolio.",
        subcommands: [Add.self, Get.self, List.self, SetRole.self, Remove.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a person: ADMIN or EMPLOYEE.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var principal: NewPrincipalOptions

        func run() async throws {
            try await self.connection.call(
                PorticoService.AddPerson.self,
                AddPersonRequest(
                    portfolioID: self.principal.portfolio, name: self.principal.name, role: self.principal.role,
                    externalID: self.principal.externalID)
            )
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a person.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The person's id.") var id: UInt64

        func run() async throws {
            try await self.connection.call(PorticoService.GetPerson.self, GetPersonRequest(personID: self.id))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the people of a portfolio.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The portfolio's id.") var portfolio: UInt64
        @OptionGroup var page: PageOptions

        func run() async throws {
            try await self.connection.call(
                PorticoService.ListPeople.self,
                ListPeopleRequest(
                    portfolioID: self.portfolio, pageSize: self.page.pageSize, pageToken: self.page.pageToken)
            )
        }
    }

    struct SetRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a person's role.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The person's id.") var id: UInt64
        @Option(help: "The new role.") var role: Role

        func run() async throws {
            try await self.connection.call(
                PorticoService.SetPersonRole.self,
                SetPersonRoleRequest(personID: self.id, role: self.role)
            )
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a person; its assignments go with it.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The person's id.") var id: UInt64

        func run() async throws {
            try await self.connection.call(PorticoService.RemovePerson.self, RemovePersonRequest(personID: self.id))
        }
    }
}

struct SystemUserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "system-user",
        abstract: "Manage the system users of a portfolio.",
        subcommands: [Create.self, List.self, Remove.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a system user: ADMIN (one at most) or EMPLOYEE. The portfolio needs an app and a tier."
        )
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var principal: NewPrincipalOptions

        func run() async throws {
            try await self.connection.call(
                PorticoService.CreateSystemUser.self,
                CreateSystemUserRequest(
                    portfolioID: self.principal.portfolio, name: self.principal.name, role: self.principal.role,
                    externalID: self.principal.externalID)
            )
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the system users of a portfolio.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The portfolio's id.") var portfolio: UInt64
        @OptionGroup var page: PageOptions

        func run() async throws {
            try await self.connection.call(
                PorticoService.ListSystemUsers.self,
                ListSystemUsersRequest(
                    portfolioID: self.portfolio, pageSize: self.page.pageSize, pageToken: self.page.pageToken)
            )
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a system user; its assignments go and its tokens are revoked.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The system user's id.") var id: UInt64

        func run() async throws {
            try await self.connection.call(
                PorticoService.RemoveSystemUser.self, RemoveSystemUserRequest(systemUserID: self.id))
        }
    }
}

struct AppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app",
        abstract: "Manage the apps of a portfolio.",
        subcommands: [Add.self, List.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an app; its secret is shown once.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The portfolio's id.") var portfolio: UInt64
        @Option(help: "The app's name: 1 to 200 characters.") var name: String
        @Option(name: .customLong("external-id"), help: "Your own id for it (1-128 of A-Z a-z 0-9 . _ - :).")
        var externalID = ""

        func run() async throws {
            try await self.connection.call(
                PorticoService.AddApp.self,
                AddAppRequest(portfolioID: self.portfolio, name: self.name, externalID: self.externalID))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the apps of a portfolio.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The portfolio's id.") var portfolio: UInt64
        @OptionGroup var page: PageOptions

        func run() async throws {
            try await self.connection.call(
                PorticoService.ListApps.self,
                ListAppsRequest(
                    portfolioID: self.portfolio, pageSize: self.page.pageSize, pageToken: self.page.pageToken)
            )
        }
    }
}

/// A new person or system user: its portfolio, name and role.
struct NewPrincipalOptions: ParsableArguments {
    @Option(help: "The portfolio's id.") var portfolio: UInt64
    @Option(help: "The name: 1 to 200 characters.") var name: String
    @Option(help: "The role.") var role: Role = .employee
    @Option(name: .customLong("external-id"), help: "Your own id for it (1-128 of A-Z a-z 0-9 . _ - :).")
    var externalID = ""
}
