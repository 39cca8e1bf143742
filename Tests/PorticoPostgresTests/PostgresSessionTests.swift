import Logging
import PorticoTestSupport
import PostgresNIO
import Synchronization
import Testing

@testable import PorticoPostgres

/// Queries on a connection PostgreSQL no longer answers end, with an error, instead of waiting for
/// good: postgres-nio drops a query sent after its connection closed without ever answering it, which
/// left a node's follower stuck after PostgreSQL restarted.
@Suite("A PostgreSQL connection that closes")
struct PostgresSessionTests {
    private static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test("a query sent after the connection closed fails at once")
    func queryAfterClose() async throws {
        let session = try await PostgresLink.connect(try await freshLog("closed"), logger: Self.logger)
        try await session.close()
        let outcome = try await Self.outcome(within: .seconds(10)) {
            try await session.query("SELECT 1", logger: Self.logger)
        }
        #expect(outcome?.contains("closed") == true, "\(outcome ?? "no answer in 10 s")")
    }

    @Test("a query waiting when PostgreSQL ends the connection fails")
    func queryWhenTerminated() async throws {
        let location = try await freshLog("terminated")
        let session = try await PostgresLink.connect(location, logger: Self.logger)
        let other = try await PostgresLink.connect(location, logger: Self.logger)
        defer { Task { try? await other.close() } }
        var pid: Int32 = 0
        for try await value in try await session.query("SELECT pg_backend_pid()", logger: Self.logger)
            .decode(Int32.self)
        {
            pid = value
        }
        let outcome = try await Self.outcome(within: .seconds(20)) {
            try await session.query("SELECT pg_sleep(60)", logger: Self.logger)
        } while: {
            try await other.query("SELECT pg_terminate_backend(\(pid))", logger: Self.logger)
        }
        #expect(outcome != nil, "the query was still waiting 20 s after its backend was terminated")
        #expect(outcome != "answered")
        // And the next query fails too, at once.
        let next = try await Self.outcome(within: .seconds(10)) {
            try await session.query("SELECT 1", logger: Self.logger)
        }
        #expect(next != nil && next != "answered", "\(next ?? "no answer in 10 s")")
    }

    @Test("a head read past its timeout closes the connection and fails")
    func timeout() async throws {
        let session = try await PostgresLink.connect(try await freshLog("timeout"), logger: Self.logger)
        let outcome = try await Self.outcome(within: .seconds(20)) {
            try await session.query("SELECT pg_sleep(60)", logger: Self.logger, timeout: .milliseconds(300))
        }
        // Failed, by the watch or by postgres-nio itself (the query had reached the connection): either
        // way not answered, and long before the 60 s of the sleep.
        #expect(outcome != nil && outcome != "answered", "\(outcome ?? "no answer in 20 s")")
        // postgres-nio fails the query as it starts closing; the connection is closed a moment later.
        #expect(try await eventually { session.isClosed })
    }

    @Test("a caller cancelled while its query runs is answered at once, with CancellationError")
    func cancelled() async throws {
        let session = try await PostgresLink.connect(try await freshLog("cancel"), logger: Self.logger)
        defer { Task { try? await session.close() } }
        let waiting = Task { () -> String in
            do {
                for try await _ in try await session.query("SELECT pg_sleep(60)", logger: Self.logger) {}
                return "answered"
            } catch is CancellationError {
                return "cancelled"
            } catch {
                return "\(error)"
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        waiting.cancel()
        let outcome = try await Self.ended(within: .seconds(10)) { await waiting.value }
        #expect(outcome == "cancelled", "\(outcome ?? "still waiting 10 s after its task was cancelled")")
    }

    @Test("a log released without close() closes its connections itself")
    func releasedWithoutClose() async throws {
        let location = try await freshLog("released")
        var log: PostgresChangeLog? = try await PostgresChangeLog.open(location)
        #expect(try await log?.load().isEmpty == true)
        // Its writer's and reader's connections are open. postgres-nio stops a debug build (this test
        // process) when a connection it made is released open.
        log = nil
        try await Task.sleep(for: .milliseconds(300))
        let again = try await PostgresChangeLog.open(location)
        #expect(try await again.load().isEmpty)
        await again.close()
    }

    /// What `query` ended with (its error's words, or "answered"), or nil if it had not ended after
    /// `limit`; `meanwhile` runs once the query is under way.
    private static func outcome(
        within limit: Duration,
        _ query: @escaping @Sendable () async throws -> PostgresRowSequence,
        while meanwhile: () async throws -> Void = {}
    ) async throws -> String? {
        try await ended(within: limit, while: meanwhile) {
            do {
                for try await _ in try await query() {}
                return "answered"
            } catch {
                return "\(error)"
            }
        }
    }

    /// What `body` returned, or nil if it had not returned after `limit`. It runs on a task of its own,
    /// left behind if it never ends, so that this test cannot hang on the fault it checks.
    private static func ended(
        within limit: Duration,
        while meanwhile: () async throws -> Void = {},
        _ body: @escaping @Sendable () async -> String
    ) async throws -> String? {
        let ended = Mutex<String?>(nil)
        Task {
            let words = await body()
            ended.withLock { $0 = words }
        }
        try await Task.sleep(for: .milliseconds(200))
        try await meanwhile()
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let words = ended.withLock({ $0 }) { return words }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }
}
