import PorticoCore
import PorticoPostgres
import PorticoTestSupport
import Testing

/// A Watch on a node that follows the shared log streams the changes other nodes commit, as it applies
/// them, with nothing missed or repeated.
@Suite("Watch on a node following PostgreSQL", .serialized)
struct WatchOnFollowerTests {
    @Test("a watcher on node B sees, in order and once each, the writes made on node A")
    func followerStreams() async throws {
        let location = try await freshLog("watch")
        let a = try await Node(location)
        let b = try await Node(location)
        defer {
            Task {
                await a.stop()
                await b.stop()
            }
        }
        let fixture = try await Fixture.make(a.portico)
        let before = a.portico.snapshot.revision
        try await b.reach(before)

        // Node B's feed, after every change so far: it waits for the follower to apply A's next ones.
        let feed = try b.portico.watch(as: .operator, after: before, portfolio: fixture.portfolio)
        let watched = Task {
            var feed = feed
            var seen: [Revision] = []
            while seen.count < 12 {
                let page = try feed.next(limit: 100)
                seen += page.events.map(\.revision)
                if page.events.isEmpty, feed.caughtUp { try await feed.changed() }
            }
            return seen
        }
        var written: [Revision] = []
        for index in 0..<12 {
            let result = try await a.portico.execute(
                .addAsset(fixture.portfolio, type: .page, name: "watched-\(index)"), as: fixture.admin)
            written.append(result.revision)
        }
        // Bounded: B applies A's changes within the follower's poll interval; 60 s is far beyond it.
        let seen = try await withThrowingTaskGroup(of: [Revision]?.self) { group in
            group.addTask { try await watched.value }
            group.addTask {
                try await Task.sleep(for: .seconds(60))
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        watched.cancel()
        #expect(seen == written, "node B streamed \(seen.map { "\($0)" }) for A's \(written)")
        #expect(written == Array((before + 1)...(before + 12)))
    }
}
