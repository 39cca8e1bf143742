import Foundation
import PorticoTestSupport
import Testing

/// `portico watch` against a server process: one line per change, history then live, until the server
/// shuts down, which ends it with the revision to resume from.
@Suite("portico watch")
struct CLIWatchTests {
    /// Waits (at most 30 s) until `program` has printed at least `count` lines.
    static func lines(of program: BackgroundProgram, atLeast count: Int) async throws -> [String] {
        for _ in 0..<600 {
            let lines = program.stdout.split(separator: "\n").map(String.init)
            if lines.count >= count { return lines }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("fewer than \(count) lines: \(program.stdout) \(program.stderr)")
        return program.stdout.split(separator: "\n").map(String.init)
    }

    @Test("history, then a live change, one JSON line each; a shutdown ends it with the revision to resume from")
    func watchLines() async throws {
        let server = try await CLIServerTests.populated()
        let head = try await server.portico(["server-info", "--json"])
        let revision = try #require(
            (try JSONSerialization.jsonObject(with: Data(head.stdout.utf8)) as? [String: Any])?["revision"]
                .flatMap { Int("\($0)") })
        let watch = try BackgroundProgram(
            [
                try Locations.portico(), "watch", "--after", "0", "--json", "--address", server.address,
                "--data-dir", server.data.path,
            ])
        let history = try await Self.lines(of: watch, atLeast: revision)
        let revisions = history.compactMap { line -> Int? in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["revision"]
                .flatMap { Int("\($0)") }
        }
        #expect(revisions == Array(1...revision), "\(history)")

        let added = try await server.portico(["person", "add", "--portfolio", "1", "--name", "Watched"])
        #expect(added.status == 0, "\(added)")
        let live = try await Self.lines(of: watch, atLeast: revision + 1)
        #expect(live.last?.contains("\"operation\":\"addPerson\"") == true, "\(live)")

        await server.stop()
        for _ in 0..<600 where watch.process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!watch.process.isRunning)
        #expect(watch.process.terminationStatus == 1)
        #expect(watch.stderr.contains("GOING_AWAY"), "\(watch.stderr)")
        #expect(watch.stderr.contains("resume with --after \(revision + 1)"), "\(watch.stderr)")
    }
}
