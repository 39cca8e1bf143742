import ArgumentParser
import Foundation
import PorticoWire

/// `portico ping`: whether the server answers, and the round trip.
struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Check that the server answers, and how long the round trip takes (connecting included).",
        discussion: "Needs no credential. Exits 0 when the server answers, 1 when it does not."
    )
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let started = ContinuousClock.now
        _ = try await self.connection.send(PorticoService.Ping.self, PingRequest(), credential: false)
        let elapsed = ContinuousClock.now - started
        let millis = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        let address = self.connection.endpoint.description
        if self.connection.json {
            print(Render.json(Pong(address: address, roundTripMillis: (millis * 1000).rounded() / 1000)))
        } else {
            print("pong from \(address) in \(String(format: "%.2f", millis)) ms")
        }
    }

    /// Ping's JSON answer, in the proto's JSON style of names.
    struct Pong: Encodable {
        let address: String
        let roundTripMillis: Double
    }
}

/// `portico server-info`: the server's version, revision and limits.
struct ServerInfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server-info",
        abstract: "Show the server's version, revision and the limits a client must respect.",
        discussion: """
            max_frame_bytes is the largest frame, max_batch_checks the most checks in one batch-check, \
            max_calls_in_flight the most calls one connection may have unanswered. Needs no credential.
            """,
        aliases: ["info"]
    )
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let info = try await self.connection.send(
            PorticoService.GetServerInfo.self, GetServerInfoRequest(), credential: false)
        self.connection.print(info)
    }
}

/// `portico wait-ready`: for scripts that start `portico serve` in the background.
struct WaitReadyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait-ready",
        abstract: "Wait until the server answers Ping (for scripts that start `portico serve` in the background).",
        discussion: """
            Calls Ping every 0.1 s until the server answers, then prints one line and exits 0. Exits 1 when \
            --timeout passes first, with what the last attempt met (connection refused, still loading...). \
            Needs no credential.
            """
    )
    @OptionGroup var server: ServerAddressOptions
    @Option(help: ArgumentHelp("Seconds to wait at most.", valueName: "seconds")) var timeout: Double = 30

    func validate() throws {
        guard self.timeout > 0, self.timeout <= 86_400 else {
            throw ValidationError("--timeout must be more than 0 and at most 86400 seconds")
        }
    }

    func run() async throws {
        let endpoint = self.server.endpoint
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int64(self.timeout * 1000))
        var lastFailure = "no attempt made"
        // Ends by itself: every pass either returns, or sleeps and moves closer to the deadline.
        while clock.now < deadline {
            let attempt = min(deadline - clock.now, .seconds(2))
            do {
                _ = try await ConnectionOptions.send(
                    PorticoService.Ping.self, PingRequest(), to: endpoint, credential: "", timeout: attempt)
                print("portico: \(endpoint) is ready")
                return
            } catch let failure as CommandFailure {
                lastFailure = failure.message
            }
            try await Task.sleep(for: min(.milliseconds(100), max(.zero, deadline - clock.now)))
        }
        throw CommandFailure("\(endpoint) did not answer within \(Self.seconds(self.timeout)) s; last: \(lastFailure)")
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
