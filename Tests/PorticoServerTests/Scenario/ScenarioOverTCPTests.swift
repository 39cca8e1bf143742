import Foundation
import PorticoClient
import PorticoWire
import Testing

/// The core's scenario corpus, run again end to end: every scenario against a fresh live server on
/// 127.0.0.1, through the Swift client, with the answers the in-process core run expects.
@Suite("Scenario corpus over loopback TCP")
struct ScenarioOverTCPTests {
    /// `Tests/PorticoCoreTests/Scenarios`, found from this file.
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("PorticoCoreTests/Scenarios")

    static let files: [String] = (try? FileManager.default.contentsOfDirectory(atPath: directory.path))
        .map { $0.filter { $0.hasSuffix(".json") }.sorted() } ?? []

    @Test("the corpus is found, and every exclusion names a scenario and a step of it")
    func corpusAndExclusions() throws {
        #expect(Self.files.count >= 40)
        for file in ScenarioOverTCPExclusions.scenarios.keys {
            #expect(Self.files.contains(file), "excluded scenario \(file) does not exist")
        }
        for (file, steps) in ScenarioOverTCPExclusions.steps {
            #expect(Self.files.contains(file), "scenario \(file) of a step exclusion does not exist")
            guard Self.files.contains(file) else { continue }
            let count = try Self.steps(of: file).count
            for step in steps.keys { #expect((1...count).contains(step), "\(file) has no step \(step)") }
        }
    }

    /// Each scenario on its own server. A step listed in `ScenarioOverTCPExclusions.steps` may differ (its
    /// documented reason); a scenario listed in `ScenarioOverTCPExclusions.scenarios` may differ anywhere.
    /// Either kind of exclusion fails once it no longer differs, so that it is removed when fixed.
    @Test("each scenario answers over TCP as it does in the core", arguments: ScenarioOverTCPTests.files)
    func scenario(_ file: String) async throws {
        let steps = try Self.steps(of: file)
        let server = try await TestServer.start()
        let client = server.client()
        var runner = WireScenarioRunner(server: server, client: client, file: file)
        let mismatches = await runner.run(steps)
        await client.close()
        await server.stop()

        if let reason = ScenarioOverTCPExclusions.scenarios[file] {
            if mismatches.isEmpty {
                Issue.record("\(file) is excluded (\(reason)) but now runs as the core does: remove its exclusion")
            }
            return
        }
        let excusedSteps = ScenarioOverTCPExclusions.steps[file] ?? [:]
        for mismatch in mismatches where excusedSteps[mismatch.step] == nil {
            Issue.record(Comment(rawValue: mismatch.text))
        }
        for (step, reason) in excusedSteps.sorted(by: { $0.key < $1.key }) where !mismatches.contains(where: { $0.step == step }) {
            Issue.record("\(file) step \(step) is excluded (\(reason)) but now answers as the core does: remove its exclusion")
        }
    }

    static func steps(of file: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent(file))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(json["steps"] as? [[String: Any]], "\(file): steps")
    }
}
