import Foundation
@testable import PorticoCore
@testable import PorticoStore
import Testing

/// The core's scenario corpus on the SQLite store: once straight through, and once with the core
/// restarted from a checkpoint and the database file at every point where the scenario turns from
/// changes to checks.
@Suite("Scenario corpus on the SQLite store")
struct ScenarioOnSQLiteTests {
    /// `Tests/PorticoCoreTests/Scenarios`, found from this file.
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("PorticoCoreTests/Scenarios")

    static let files: [String] = (try? FileManager.default.contentsOfDirectory(atPath: directory.path))
        .map { $0.filter { $0.hasSuffix(".json") }.sorted() } ?? []

    /// Operations that read; every other operation but `advanceClock` is a change.
    static let reads: Set<String> = [
        "check", "explain", "checkBatch", "listAssets", "listPrincipals", "listPartners", "auditEvents", "authenticate",
    ]

    @Test("the corpus is found")
    func corpus() { #expect(Self.files.count >= 40) }

    @Test("each scenario answers as written, restarted or not", arguments: ScenarioOnSQLiteTests.files, [false, true])
    func scenario(_ file: String, restarting: Bool) async throws {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent(file))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let steps = try #require(json["steps"] as? [[String: Any]])
        let directory = TemporaryDirectory("scenario")
        let clock = ManualClock()
        var store = try SQLiteStore(directory: directory.path)
        var portico = try await Portico.open(store: store, clock: clock)
        var bindings = Bindings()
        var restarts = 0
        var changedSinceRestart = false

        for (index, step) in steps.enumerated() {
            let op = step["op"] as? String ?? "?"
            if Self.reads.contains(op), changedSinceRestart, restarting {
                // Restarted from a checkpoint of the state (with the changes since an earlier checkpoint
                // in the log, from the second restart on): it must rebuild the very same state.
                let before = portico.snapshot.state
                try await store.writeCheckpoint(before, now: clock.now())
                await store.close()
                store = try SQLiteStore(directory: directory.path)
                let recovery = try await store.recover()
                #expect(recovery.base?.revision == before.revision && recovery.changes.isEmpty,
                        "\(file) step \(index + 1): start-up from the checkpoint")
                portico = try await Portico.open(store: store, clock: clock)
                #expect(portico.snapshot.state == before, "\(file) step \(index + 1): state after restart")
                restarts += 1
                changedSinceRestart = false
            }
            if !Self.reads.contains(op), op != "advanceClock" { changedSinceRestart = true }
            // A runner per step, on whichever core is current, with earlier bindings written in as literals.
            var runner = ScenarioRunner(reopened: portico, clock: clock, file: "\(file) [restarted \(restarts)x]")
            try await runner.run([bindings.resolve(step)])
            bindings.learn(from: runner, step: step)
        }
        let final = portico.snapshot.state
        await store.close()
        store = try SQLiteStore(directory: directory.path)
        #expect(try await Portico.open(store: store, clock: clock).snapshot.state == final, "\(file): state at the end")
        await store.close()
    }
}

extension ScenarioRunner {
    /// A runner on an existing core (the corpus's own runner opens a fresh in-memory one).
    init(reopened portico: Portico, clock: ManualClock, file: String) {
        self.portico = portico
        self.clock = clock
        self.file = file
    }
}

/// The ids and secrets a scenario has bound so far, carried from one runner to the next.
struct Bindings {
    var ids: [String: UInt64] = [:]
    var secrets: [String: String] = [:]

    mutating func learn(from runner: ScenarioRunner, step: [String: Any]) {
        guard let name = step["bind"] as? String else { return }
        if let id = runner.ids[name] { ids[name] = id }
        if let secret = runner.secrets[name] { secrets[name] = secret }
    }

    /// The step with every bound `@name` replaced by its id (or, for `authenticate`'s secret, the secret),
    /// which the runner reads as a literal.
    func resolve(_ step: [String: Any]) -> [String: Any] {
        var step = step
        if let args = step["args"] as? [String: Any] {
            var resolved = args.mapValues(substituted)
            if step["op"] as? String == "authenticate", let text = args["secret"] as? String, text.hasPrefix("@") {
                resolved["secret"] = secrets[String(text.dropFirst())] ?? text
            }
            step["args"] = resolved
        }
        if let caller = step["as"] { step["as"] = substituted(caller) }
        if let expect = step["expect"] { step["expect"] = substituted(expect) }
        return step
    }

    private func substituted(_ value: Any) -> Any {
        switch value {
        case let text as String: return substitute(text)
        case let array as [Any]: return array.map(substituted)
        case let object as [String: Any]: return object.mapValues(substituted)
        default: return value
        }
    }

    private func substitute(_ text: String) -> String {
        guard text.contains("@") else { return text }
        var result = ""
        var rest = Substring(text)
        while let at = rest.firstIndex(of: "@") {
            result += rest[..<at]
            let nameStart = rest.index(after: at)
            let nameEnd = rest[nameStart...].firstIndex { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") }
                ?? rest.endIndex
            let name = String(rest[nameStart..<nameEnd])
            result += ids[name].map(String.init) ?? "@" + name
            rest = rest[nameEnd...]
        }
        return result + rest
    }
}
