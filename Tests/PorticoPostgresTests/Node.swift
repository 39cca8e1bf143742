import PorticoCore
import PorticoPostgres
import PorticoTestSupport

/// One node of a test cluster in this process: a core on its own connection to the shared log,
/// following it while `following` runs.
final class Node: Sendable {
    let log: PostgresChangeLog
    let portico: Portico
    private let following: Task<Void, Never>?

    init(_ location: PostgresLocation, follow: Bool = true, poll: Duration = .milliseconds(200)) async throws {
        log = try await PostgresChangeLog.open(location)
        portico = try await Portico.open(store: log)
        if follow {
            let follower = LogFollower(portico: portico, log: log, poll: poll)
            following = Task { await follower.run() }
        } else {
            following = nil
        }
    }

    /// Waits (at most `seconds`) until the node has applied `revision`.
    @discardableResult
    func reach(_ revision: Revision, seconds: Int = 20) async throws -> AccessSnapshot {
        try await portico.snapshot(atLeast: revision, until: .now + .seconds(seconds))
    }

    func stop() async {
        following?.cancel()
        await following?.value
        await log.close()
    }
}

/// A test's own database on the shared test server.
func freshLog(_ prefix: String = "t") async throws -> PostgresLocation {
    try PostgresLocation(url: try await offThePool { try PostgresServer.shared().createDatabase(prefix) })
}

/// Stops `nodes` after the test, from a `defer` (which cannot await).
func stopping(_ nodes: Node...) {
    Task { for node in nodes { await node.stop() } }
}
