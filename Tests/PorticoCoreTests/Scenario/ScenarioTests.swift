import Foundation
import Testing

@Suite("Scenario corpus")
struct ScenarioTests {
    static let directory = Bundle.module.url(forResource: "Scenarios", withExtension: nil)!

    static let files: [String] = (try? FileManager.default.contentsOfDirectory(atPath: directory.path))
        .map { $0.filter { $0.hasSuffix(".json") }.sorted() } ?? []

    @Test("the corpus holds at least 40 scenarios")
    func corpusSize() {
        #expect(Self.files.count >= 40)
    }

    @Test("each scenario's checks and errors come out as written", arguments: ScenarioTests.files)
    func scenario(_ file: String) async throws {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent(file))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["name"] is String && json["description"] is String, "\(file): name and description")
        let steps = try #require(json["steps"] as? [[String: Any]])
        var runner = try await ScenarioRunner.make(file: file)
        try await runner.run(steps)
    }
}
