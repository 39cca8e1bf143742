public import Foundation

/// The scenario corpus, `Tests/PorticoCoreTests/Scenarios`: the one specification that the core, the
/// SQLite store and the server over TCP all run.
public enum ScenarioCorpus {
    /// The corpus folder, found from this file (the tests run from the source tree).
    public static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("PorticoCoreTests/Scenarios")

    /// The file names of every scenario, sorted.
    public static let files: [String] =
        (try? FileManager.default.contentsOfDirectory(atPath: directory.path))
        .map { $0.filter { $0.hasSuffix(".json") }.sorted() } ?? []

    /// The scenario of `file`, decoded.
    /// - Throws: `DecodingError` naming the key or value that does not fit the format.
    public static func load(_ file: String) throws -> Scenario {
        let data = try Data(contentsOf: directory.appendingPathComponent(file))
        return try JSONDecoder().decode(Scenario.self, from: data)
    }
}

/// A difference between what a step answered and what it expected.
public struct ScenarioMismatch: Sendable, CustomStringConvertible {
    /// The step, numbered from 1 as in the file.
    public var step: Int
    public var text: String

    public init(step: Int, text: String) {
        self.step = step
        self.text = text
    }

    public var description: String { self.text }
}
