import PorticoTestSupport
import Testing

@Suite("Scenario corpus")
struct ScenarioTests {
    @Test("the corpus holds at least 40 scenarios, each a valid file")
    func corpus() throws {
        #expect(ScenarioCorpus.files.count >= 40)
        for file in ScenarioCorpus.files {
            let scenario = try ScenarioCorpus.load(file)
            #expect(!scenario.name.isEmpty && !scenario.description.isEmpty, "\(file): name and description")
        }
    }

    @Test("each scenario's checks and errors come out as written", arguments: ScenarioCorpus.files)
    func scenario(_ file: String) async throws {
        let scenario = try ScenarioCorpus.load(file)
        var runner = try await CoreScenarioRunner.make(file: file)
        for mismatch in try await runner.run(scenario) {
            Issue.record(Comment(rawValue: mismatch.text))
        }
    }
}
