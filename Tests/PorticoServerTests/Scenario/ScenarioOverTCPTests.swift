import PorticoTestSupport
import Testing

/// The core's scenario corpus, run again end to end: every scenario against a fresh live server on
/// 127.0.0.1, through the Swift client, with the answers the in-process core run expects.
@Suite("Scenario corpus over loopback TCP")
struct ScenarioOverTCPTests {
    @Test("the corpus is found, and every exclusion names a scenario and a step of it")
    func corpusAndExclusions() throws {
        let files = ScenarioCorpus.files
        #expect(files.count >= 40)
        for file in ScenarioOverTCPExclusions.scenarios.keys {
            #expect(files.contains(file), "excluded scenario \(file) does not exist")
        }
        for (file, steps) in ScenarioOverTCPExclusions.steps {
            #expect(files.contains(file), "scenario \(file) of a step exclusion does not exist")
            guard files.contains(file) else { continue }
            let count = try ScenarioCorpus.load(file).steps.count
            for step in steps.keys { #expect((1...count).contains(step), "\(file) has no step \(step)") }
        }
    }

    /// Each scenario on its own server. A step listed in `ScenarioOverTCPExclusions.steps` may differ (its
    /// documented reason); a scenario listed in `ScenarioOverTCPExclusions.scenarios` may differ anywhere.
    /// Either kind of exclusion fails once it no longer differs, so that it is removed when fixed.
    @Test("each scenario answers over TCP as it does in the core", arguments: ScenarioCorpus.files)
    func scenario(_ file: String) async throws {
        let scenario = try ScenarioCorpus.load(file)
        let mismatches = try await TestServer.with { server in
            var runner = WireScenarioRunner(server: server, client: server.client(), file: file)
            return await runner.run(scenario)
        }

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
        for (step, reason) in excusedSteps.sorted(by: { $0.key < $1.key })
        where !mismatches.contains(where: { $0.step == step }) {
            Issue.record(
                "\(file) step \(step) is excluded (\(reason)) but now answers as the core does: remove its exclusion")
        }
    }
}
