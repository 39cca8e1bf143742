import Logging
import NIOCore
import PorticoClient
import PorticoCore
import PorticoTestSupport
import PorticoWire
import Synchronization
import Testing

@testable import PorticoServer

/// A LogHandler that keeps every record, for counting what a client can make the server log.
final class CapturingLogHandler: LogHandler, Sendable {
    struct Record: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let records = Mutex<[Record]>([])
    private let settings = Mutex<(level: Logger.Level, metadata: Logger.Metadata)>((.trace, [:]))

    var logLevel: Logger.Level {
        get { self.settings.withLock { $0.level } }
        set { self.settings.withLock { $0.level = newValue } }
    }

    var metadata: Logger.Metadata {
        get { self.settings.withLock { $0.metadata } }
        set { self.settings.withLock { $0.metadata = newValue } }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = self.metadata.merging(event.metadata ?? [:]) { $1 }
        let record = Record(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" })
        self.records.withLock { $0.append(record) }
    }

    /// Records at `level` or above whose message contains `text`.
    func records(containing text: String, atLeast level: Logger.Level = .notice) -> [Record] {
        self.records.withLock { $0.filter { $0.level >= level && $0.message.contains(text) } }
    }

    var logger: Logger {
        Logger(label: "portico.test") { _ in self }
    }
}

@Suite("Repeated notices are throttled")
struct NoticeThrottleTests {
    @Test("the throttle admits the first, then one per interval with the count left out")
    func throttle() {
        var throttle = NoticeThrottle(interval: .seconds(10))
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        #expect(throttle.admit(now: start) == 0)
        for offset in 1...500 { #expect(throttle.admit(now: start + .milliseconds(Int64(offset))) == nil) }
        #expect(throttle.admit(now: start + .seconds(10)) == 500)
        #expect(throttle.admit(now: start + .seconds(11)) == nil)
        #expect(throttle.drain() == 1)
        #expect(throttle.drain() == 0)
    }

    @Test("3,000 calls over the limit on one connection: one notice, and one summary with the count at shutdown")
    func callsOverLimit() async throws {
        let capture = CapturingLogHandler()
        let store = GateStore()
        try await TestServer.with(
            configuration: ServerConfiguration(maxCallsInFlightPerConnection: 1, noticeInterval: .seconds(600)),
            store: store,
            logger: capture.logger
        ) { server in
            let key = server.operatorKey
            let client = try await WireClient.connect(port: server.port)
            // One write held by the store, then 3,000 more: each is refused TOO_MANY_CALLS.
            var bytes = WirePreface.bytes + (try CallLimitTests.write(1, "held", key: key))
            for call in 2...3_001 { bytes += try CallLimitTests.write(UInt64(call), "p", key: key) }
            try await client.send(bytes)
            let answers = try await client.wait { $0.count >= 3_000 }.frames
            #expect(answers.count == 3_000)
            #expect(answers.allSatisfy { $0.header.statusCode == .resourceExhausted })
            #expect(capture.records(containing: "").count <= 2)
            await client.close()
            store.open()
            try await CallLimitTests.settle(server)
            for _ in 0..<2_000 where server.server.connectionCount > 0 { try await Task.sleep(for: .milliseconds(5)) }
        }
        let summaries = capture.records(containing: "calls refused over the calls-in-flight limit")
        #expect(summaries.count == 2)
        #expect(summaries.last?.metadata["repeats_not_logged"] == "2999")
    }

    @Test("100 connections each over the calls limit once: one notice and one summary, not one line each")
    func callsOverLimitPerServer() async throws {
        let capture = CapturingLogHandler()
        let store = GateStore()
        let configuration = ServerConfiguration(
            maxConnectionsPerAddress: 1024,
            maxCallsInFlightPerConnection: 1,
            noticeInterval: .seconds(600)
        )
        try await TestServer.with(configuration: configuration, store: store, logger: capture.logger) { server in
            let key = server.operatorKey
            for connection in 0..<100 {
                let client = try await WireClient.connect(port: server.port)
                // A write held by the store, then one more: refused TOO_MANY_CALLS.
                try await client.send(
                    WirePreface.bytes + (try CallLimitTests.write(1, "held \(connection)", key: key))
                        + (try CallLimitTests.write(2, "over \(connection)", key: key))
                )
                let answer = try await client.wait { !$0.isEmpty }.frames.first
                #expect(answer?.header.callID == 2 && answer?.header.statusCode == .resourceExhausted)
                await client.close()
            }
            #expect(capture.records(containing: "calls refused").count == 1)
            store.open()
            try await CallLimitTests.settle(server)
        }
        // The 99 left out are counted in one summary, logged at the latest when the server stops.
        let lines = capture.records(containing: "calls refused")
        #expect(lines.count == 2)
        #expect(lines.last?.metadata["repeats_not_logged"] == "99")
    }

    @Test("a summary is logged when its interval ends, named after its kind, not after the last repeat")
    func summaryAtIntervalEnd() async throws {
        let capture = CapturingLogHandler()
        let notices = ServerNotices(interval: .milliseconds(100), logger: capture.logger)
        notices.notice(.protocolViolation, "closing connection: BAD_PREFACE")
        notices.notice(.protocolViolation, "closing connection: BAD_PREFACE")
        notices.notice(.protocolViolation, "closing connection: FRAME_TIMEOUT")
        // Nothing more is noticed: the summary still comes, once the interval has ended.
        for _ in 0..<2_000 where capture.records(containing: "(repeated)").isEmpty {
            try await Task.sleep(for: .milliseconds(5))
        }
        let summaries = capture.records(containing: "(repeated)")
        #expect(summaries.count == 1)
        #expect(summaries.first?.message == "\(ServerNotices.Kind.protocolViolation.summary) (repeated)")
        #expect(summaries.first?.metadata["repeats_not_logged"] == "2")
        #expect(capture.records(containing: "FRAME_TIMEOUT").isEmpty)
        #expect(capture.records(containing: "closing connection").count == 1)
    }

    @Test("500 connections refused over the limit: one notice line, not 500")
    func connectionsRefused() async throws {
        let capture = CapturingLogHandler()
        // Event loops of its own: in a full run, other tests' work on the shared loops delayed a refusal
        // past the wait below.
        try await withOwnEventLoops { serverGroup, clientGroup in
            try await TestServer.with(
                configuration: ServerConfiguration(maxConnections: 1, noticeInterval: .seconds(600)),
                logger: capture.logger, eventLoopGroup: serverGroup
            ) { server in
                let first = try await WireClient.connect(port: server.port, group: clientGroup)
                try await first.send(WirePreface.bytes + Wire.ping(1))
                _ = try await first.wait { $0.count >= 1 }
                for _ in 0..<500 {
                    let refused = try await WireClient.connect(port: server.port, group: clientGroup)
                    let (frames, closed) = try await refused.wait(limit: .seconds(30))
                    #expect(closed && frames.first?.header.statusCode == .resourceExhausted)
                }
                #expect(capture.records(containing: "connection refused").count == 1)
                await first.close()
            }
        }
    }
}
