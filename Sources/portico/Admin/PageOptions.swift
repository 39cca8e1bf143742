import ArgumentParser

/// Paging of list subcommands.
struct PageOptions: ParsableArguments {
    @Option(help: "Items per page (at most 1000).")
    var pageSize: UInt32 = 100

    @Option(help: "The next_page_token of the previous page.")
    var pageToken: String = ""
}

/// A principal named by one of --person or --system-user.
struct PrincipalOptions: ParsableArguments {
    @Option(help: "A person's id.")
    var person: UInt64?

    @Option(name: .customLong("system-user"), help: "A system user's id.")
    var systemUser: UInt64?

    func validate() throws {
        guard (self.person == nil) != (self.systemUser == nil) else {
            throw ValidationError("name exactly one of --person and --system-user")
        }
    }
}
