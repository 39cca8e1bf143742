import ArgumentParser
import PorticoWire

struct PartnerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partner",
        abstract: "Share assets with partner portfolios, and answer their requests.",
        subcommands: [
            Add.self, Remove.self, List.self, Share.self, UpdateShare.self, Unshare.self, Shares.self,
            Request.self, Approve.self, Decline.self, Requests.self,
        ]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take a portfolio as a partner.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The portfolio that takes the partner.") var portfolio: UInt64
        @Option(help: "The partner portfolio's id.") var partner: UInt64

        func run() async throws {
            try await self.connection.call(
                PorticoService.AddPartner.self,
                AddPartnerRequest(portfolioID: self.portfolio, partnerPortfolioID: self.partner)
            )
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End a partnership: every share between the two goes.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The portfolio that ends the partnership.") var portfolio: UInt64
        @Option(help: "The partner portfolio's id.") var partner: UInt64

        func run() async throws {
            try await self.connection.call(
                PorticoService.RemovePartner.self,
                RemovePartnerRequest(portfolioID: self.portfolio, partnerPortfolioID: self.partner)
            )
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a portfolio's partners.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The portfolio's id.") var portfolio: UInt64
        @OptionGroup var page: PageOptions

        func run() async throws {
            try await self.connection.call(
                PorticoService.ListPartners.self,
                ListPartnersRequest(
                    portfolioID: self.portfolio, pageSize: self.page.pageSize, pageToken: self.page.pageToken)
            )
        }
    }

    struct Share: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Share an asset with a partner, with the tasks it may use.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var share: ShareOptions

        func run() async throws {
            try await self.connection.call(
                PorticoService.ShareAsset.self,
                ShareAssetRequest(
                    assetID: self.share.asset, partnerPortfolioID: self.share.partner, tasks: self.share.tasks)
            )
        }
    }

    struct UpdateShare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change the tasks of a share.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var share: ShareOptions

        func run() async throws {
            try await self.connection.call(
                PorticoService.UpdateShare.self,
                UpdateShareRequest(
                    assetID: self.share.asset, partnerPortfolioID: self.share.partner, tasks: self.share.tasks)
            )
        }
    }

    struct Unshare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop sharing an asset with a partner.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The asset's id.") var asset: UInt64
        @Option(help: "The partner portfolio's id.") var partner: UInt64

        func run() async throws {
            try await self.connection.call(
                PorticoService.UnshareAsset.self,
                UnshareAssetRequest(assetID: self.asset, partnerPortfolioID: self.partner)
            )
        }
    }

    struct Shares: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the shares a portfolio granted and received.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The portfolio's id.") var portfolio: UInt64
        @OptionGroup var page: PageOptions

        func run() async throws {
            try await self.connection.call(
                PorticoService.ListShares.self,
                ListSharesRequest(
                    portfolioID: self.portfolio, pageSize: self.page.pageSize, pageToken: self.page.pageToken)
            )
        }
    }

    struct Request: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Ask an asset's owner to share it.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The requesting portfolio's id.") var portfolio: UInt64
        @Option(help: "The asset's id.") var asset: UInt64
        @Option(name: .customLong("task"), help: "A task; repeat for several.") var tasks: [AssetTask]

        func run() async throws {
            try await self.connection.call(
                PorticoService.RequestShare.self,
                RequestShareRequest(
                    portfolioID: self.portfolio,
                    assetID: self.asset,
                    tasks: self.tasks
                )
            )
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a share request (the owner).")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The share request's id.") var request: UInt64

        func run() async throws {
            try await self.connection.call(
                PorticoService.ApproveShareRequest.self,
                ApproveShareRequestRequest(shareRequestID: self.request)
            )
        }
    }

    struct Decline: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Decline a share request (the owner).")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The share request's id.") var request: UInt64

        func run() async throws {
            try await self.connection.call(
                PorticoService.DeclineShareRequest.self,
                DeclineShareRequestRequest(shareRequestID: self.request)
            )
        }
    }

    struct Requests: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the share requests a portfolio made or received.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The portfolio's id.") var portfolio: UInt64
        @Option(help: "Only requests in this state.") var state: ShareRequestState?
        @OptionGroup var page: PageOptions

        func run() async throws {
            try await self.connection.call(
                PorticoService.ListShareRequests.self,
                ListShareRequestsRequest(
                    portfolioID: self.portfolio,
                    state: self.state ?? .unspecified,
                    pageSize: self.page.pageSize,
                    pageToken: self.page.pageToken
                )
            )
        }
    }
}

/// An asset, the partner it is shared with, and the tasks shared.
struct ShareOptions: ParsableArguments {
    @Option(help: "The asset's id.") var asset: UInt64
    @Option(help: "The partner portfolio's id.") var partner: UInt64
    @Option(name: .customLong("task"), help: "A task the partner may be given; repeat for several.") var tasks:
        [AssetTask]
}
